"""Error responses: every failure a client can cause is a 4xx with a message saying what to fix."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from qa.errors import CorpusError, InvalidQuestionError, QAError


def _describe(error: dict[str, Any]) -> str:
    location = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    if error.get("type") == "json_invalid":
        return 'the request body is not valid JSON; send {"question": "...", "top_k": 3}'
    if error.get("type") == "missing":
        return f"{location} is required"
    return f"{location}: {message}"


async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    problems = [_describe(dict(error)) for error in exc.errors()]
    return JSONResponse(status_code=422, content={"detail": "; ".join(problems), "errors": problems})


async def _qa_error(_: Request, exc: QAError) -> JSONResponse:
    if isinstance(exc, CorpusError):  # a re-index refused: every problem, so a maintainer fixes them in one go
        problems = [problem.model_dump() for problem in exc.problems]
        return JSONResponse(status_code=422, content={"detail": str(exc), "problems": problems})
    status = 422 if isinstance(exc, InvalidQuestionError) else 503
    return JSONResponse(status_code=status, content={"detail": str(exc)})


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(QAError, _qa_error)  # type: ignore[arg-type]
