"""Shared dependencies of the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from qa.config import Settings
from qa.pipeline import AskPipeline
from qa.service import QAService


# `async`, though they only read app state: a plain function would cost each request a trip to the thread pool.
async def _service(request: Request) -> QAService:
    service: QAService = request.app.state.service
    return service


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _pipeline(request: Request) -> AskPipeline:
    pipeline: AskPipeline = request.app.state.pipeline
    return pipeline


ServiceDep = Annotated[QAService, Depends(_service)]
SettingsDep = Annotated[Settings, Depends(_settings)]
PipelineDep = Annotated[AskPipeline, Depends(_pipeline)]
