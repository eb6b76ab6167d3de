"""`GET /api/health`: is the engine up, and which build does it serve."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from qa.api.deps import ServiceDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    entries: int
    index_version: str


@router.get("/health", response_model=Health, summary="Liveness and the index being served")
def health(service: ServiceDep) -> Health:
    index = service.index
    return Health(status="ok", entries=index.entries, index_version=index.version)
