"""`GET /api/health`: is the engine up, and which build does it serve."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from qa.api.deps import ServiceDep
from qa.api.errors import responses

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    entries: int
    index_version: str


@router.get(
    "/health", response_model=Health, summary="Liveness and the index being served", responses=responses(500)
)
def health(service: ServiceDep) -> Health:
    index = service.index
    return Health(status="ok", entries=index.entries, index_version=index.version)
