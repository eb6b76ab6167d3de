"""`POST /api/admin/reindex` and `/api/admin/reload`: a new build served without a restart.

Mounted only when `QA_ADMIN_TOKEN` is set (otherwise the paths do not exist:
404), and every call needs `Authorization: Bearer <token>`, compared in
constant time. A re-index whose corpus has errors answers 422 with every
problem and leaves the served build as it was.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from qa.api.errors import CorpusErrorBody, responses
from qa.engine import Engine
from qa.loaders import Problem

# Declared as a bearer scheme, so the schema (and Swagger UI's Authorize button) say how to call these.
_bearer = HTTPBearer(auto_error=False, description="The server's QA_ADMIN_TOKEN.")
router = APIRouter(prefix="/admin", tags=["admin"], responses=responses(401, 413, 429, 500, 503))


def _engine(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Engine:
    token: str = request.app.state.admin_token
    given = credentials.credentials if credentials is not None else ""
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise HTTPException(
            status_code=401,
            detail="send the admin token as 'Authorization: Bearer <QA_ADMIN_TOKEN>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(_engine)]


class Served(BaseModel):
    index_version: str = Field(description="Version of the build now served.")
    entries: int


class Reindexed(Served):
    seconds: float
    added: list[str]
    changed: list[str]
    removed: list[str]
    unchanged: int
    embedded: int = Field(description="Texts the model embedded (the rest came from the cache).")
    warnings: list[Problem] = Field(default_factory=list)


@router.post("/reload", response_model=Served, summary="Serve the newest current build, without a restart")
def reload(engine: EngineDep) -> Served:
    index = engine.reload()
    return Served(index_version=index.version, entries=index.entries)


@router.post(
    "/reindex",
    response_model=Reindexed,
    summary="Re-read the configured corpus, build, and serve the new build",
    responses={
        422: {
            "model": CorpusErrorBody,
            "description": "The corpus has errors; each one is listed in `problems` and the old build keeps serving.",
        }
    },
)
def reindex(engine: EngineDep) -> Reindexed:
    report = engine.reindex()
    index = engine.service.index
    return Reindexed(
        index_version=index.version,
        entries=index.entries,
        seconds=round(report.seconds, 3),
        added=list(report.changes.added),
        changed=list(report.changes.changed),
        removed=list(report.changes.removed),
        unchanged=report.changes.unchanged,
        embedded=report.embedded,
        warnings=list(report.warnings),
    )
