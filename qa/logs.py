"""What the server writes to its log, in one place, because health questions are sensitive.

A request's log lines hold its request id, method, path (never the query string), status and
time, and for an answer the answer ids, whether it abstained and which banner fired. The question
text is written only when `QA_LOG_QUESTIONS` is on. Client addresses, headers (so the admin
token) and bodies are never written.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from qa.records import AskResult

__all__ = ["REQUEST_ID", "access", "configure", "log_answer", "loggable_path", "request_id_from"]

REQUEST_ID: ContextVar[str] = ContextVar("qa_request_id", default="-")
"""The id of the HTTP request being served (set by the access-log middleware), "-" outside one."""
_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_SESSION = re.compile(r"^(/gradio_api/heartbeat/)[^/]+")
_access = logging.getLogger("qa.access")
_answers = logging.getLogger("qa.answers")


def request_id_from(given: str | None) -> str | None:
    """A caller's own X-Request-ID, if it is a plain token (anything else could forge log lines)."""
    return given if given is not None and _ID.fullmatch(given) else None


def loggable_path(scope: Mapping[str, Any]) -> str:
    """The path as sent (still percent-encoded, so no decoded newline can forge a line), without the query,
    cut at 200 characters, with the chat's per-tab session id masked (it would link one tab's requests)."""
    raw = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "backslashreplace")
    path = raw.decode("ascii", "backslashreplace").split("?", 1)[0]
    path = "".join(char if char.isprintable() and char != " " else "?" for char in path)[:200]
    return _SESSION.sub(r"\1*", path)


def access(request_id: str, method: str, path: str, status: int, seconds: float) -> None:
    _access.info("request_id=%s method=%s path=%s status=%d ms=%.1f", request_id, method, path, status, seconds * 1e3)


def log_answer(result: AskResult, *, request_id: str | None = None, question: str | None = None) -> None:
    """One line per answer; pass `question` only when the setting to log questions is on."""
    line = "request_id=%s answers=%s abstained=%s banner=%s" % (  # noqa: UP031  (one format for every field)
        request_id or REQUEST_ID.get(),
        ",".join(answer.id for answer in result.answers) or "-",
        str(result.abstained).lower(),
        result.red_flag.tier if result.red_flag.triggered else "none",
    )
    if question is not None:
        line += " question=" + json.dumps(question)  # ASCII: no line or paragraph separator gets through
    _answers.info(line)


def configure(level: str = "INFO") -> None:
    """The server's log: the `qa.*` loggers, one line per event, to standard error."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("qa")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
