"""Error responses: one JSON shape for every 4xx and 5xx the API sends, declared in its OpenAPI schema.

A client generated from `/openapi.json` reads `detail` (a sentence for a person: what to fix) and
`errors` (one record per invalid field, for a program) from any failure, whatever its status.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from qa.errors import CorpusError, InvalidQuestionError, QAError
from qa.loaders import Problem

__all__ = ["CorpusErrorBody", "ErrorBody", "FieldError", "error_response", "install", "responses"]

EXAMPLE_BODY = '{"question": "...", "top_k": 3}'


class FieldError(BaseModel):
    loc: list[str | int] = Field(description='Where in the request, e.g. ["body", "top_k"].')
    msg: str = Field(description="What is wrong there, and how to fix it.")
    type: str = Field(description='Machine-readable kind, e.g. "missing", "string_too_long", "json_invalid".')


class ErrorBody(BaseModel):
    detail: str = Field(description="What went wrong and what to do about it, for a person.")
    errors: list[FieldError] = Field(
        default_factory=list, description="One record per invalid part of the request (422); empty otherwise."
    )


class CorpusErrorBody(ErrorBody):
    problems: list[Problem] = Field(description="Every problem found in the corpus, warnings too.")


_DESCRIPTIONS = {
    400: "The body could not be read (it is not UTF-8).",
    401: "The admin token is missing or wrong.",
    413: "The body is larger than the server accepts (QA_MAX_BODY_BYTES); it was not read.",
    422: "The request does not match the schema; `errors` lists each problem.",
    429: "Too many requests from this client; retry after `Retry-After` seconds.",
    500: "A failure the server did not foresee; `detail` gives the request id its log has it under.",
    503: "The server cannot answer now (no usable index or model); `detail` says what to fix.",
}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry of a route for these error statuses, all in the one error shape."""
    declared: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        declared[code] = {"model": ErrorBody, "description": _DESCRIPTIONS[code]}
        if code == 429:
            declared[code]["headers"] = _RETRY_AFTER
    return declared


def error_response(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON error in the one shape; the middlewares use it too, outside FastAPI's handlers."""
    return JSONResponse(status_code=status, content=ErrorBody(detail=detail).model_dump(), headers=headers)


def _describe(error: dict[str, Any]) -> str:
    location = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
    kind, ctx = error.get("type"), error.get("ctx") or {}
    if kind == "json_invalid":
        return f"the request body is not valid JSON; send {EXAMPLE_BODY}"
    if kind == "missing":
        return f"{location} is required"
    if kind == "extra_forbidden":
        return f"{location} is not a field of this request; send only the fields in /docs"
    if kind in ("model_attributes_type", "dict_type") and location == "body":
        return f"the body must be a JSON object such as {EXAMPLE_BODY}, sent as Content-Type: application/json"
    if kind == "string_unicode":  # a lone surrogate such as "\udcff": not text in any encoding
        return f"{location} contains characters that are not valid text; send UTF-8 text"
    if kind == "string_too_long":
        length, limit = len(error.get("input", "")), ctx.get("max_length")
        return f"{location} is {length} characters long; shorten it to {limit} or fewer"
    return f"{location}: {str(error.get('msg', 'invalid value')).removeprefix('Value error, ')}"


def _field_errors(exc: RequestValidationError) -> list[FieldError]:
    return [
        FieldError(loc=list(error.get("loc", ())), msg=_describe(dict(error)), type=str(error.get("type", "invalid")))
        for error in exc.errors()
    ]


async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = _field_errors(exc)
    body = ErrorBody(detail="; ".join(error.msg for error in errors), errors=errors)
    return JSONResponse(status_code=422, content=body.model_dump())


async def _http(_: Request, exc: HTTPException) -> JSONResponse:
    detail = str(exc.detail)
    if isinstance(exc.__cause__, UnicodeDecodeError):  # FastAPI's "error parsing the body" says nothing more
        detail = f"the request body is not valid UTF-8 (byte {exc.__cause__.start}); send UTF-8 JSON"
    return error_response(exc.status_code, detail, dict(exc.headers or {}))


async def _qa_error(_: Request, exc: QAError) -> JSONResponse:
    if isinstance(exc, CorpusError):  # a re-index refused: every problem, so a maintainer fixes them in one go
        body = CorpusErrorBody(detail=str(exc), problems=list(exc.problems))
        return JSONResponse(status_code=422, content=body.model_dump())
    return error_response(422 if isinstance(exc, InvalidQuestionError) else 503, str(exc))


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(QAError, _qa_error)  # type: ignore[arg-type]
