"""The HTTP contract under strangers, through real servers on 127.0.0.1: the schema is truthful (a
fuzzer finds nothing), bodies are capped before they are read, odd but valid text is answered, one
client cannot take the server, other sites cannot use it from a browser, and HTML is hardened."""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from qa.api.headers import CONTENT_SECURITY_POLICY
from qa.api.limits import TokenBuckets, client_key, limited
from qa.builder import build
from qa.config import Settings
from qa.embedder import Embedder
from qa.engine import Engine
from qa.service import QAService
from tests.conftest import SEED_CORPUS
from tests.harness import LiveServer, serve

TOKEN = "fuzz-admin-token"
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
FUZZ_EXAMPLES = 150
"""Per operation and phase; a fixed seed, so a failure in CI replays exactly."""


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[LiveServer]:
    """The whole web app with its admin routes, on an index of its own (the fuzzer re-indexes it)."""
    from qa.web import create_web_app

    root = tmp_path_factory.mktemp("contract")
    settings = Settings(
        corpus=[SEED_CORPUS], index_dir=root / "index", feedback_db=root / "f.sqlite3", admin_token=TOKEN
    )
    build(settings.corpus, settings.index_dir, embedder)
    engine = Engine(settings, embedder)
    yield from serve(create_web_app(engine.service, settings, engine))


def _fuzz(url: str, workdir: Path, *extra: str) -> str:
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{url}/openapi.json",
        "--checks",
        "all",
        "--workers",
        "1",
        "--max-examples",
        str(FUZZ_EXAMPLES),
        "--seed",
        "20261201",
        "--request-timeout",
        "60",
        *extra,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=600, env={**os.environ, "NO_COLOR": "1"}, cwd=workdir
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    count = re.search(r"\b([1-9]\d*) generated", done.stdout)
    assert count, done.stdout[-2000:]
    print(f"schemathesis: {count.group(1)} test cases, no failure")  # shown by `pytest -rP`
    return done.stdout


def test_a_schema_fuzzer_finds_no_server_error_and_no_schema_violation(
    admin_server: LiveServer, tmp_path: Path
) -> None:
    """Every response, 4xx included, is what /openapi.json says; strangers get 401 from the admin routes."""
    _fuzz(admin_server.url, tmp_path)  # in tmp_path: schemathesis keeps its example database in the working folder


def test_the_fuzzer_with_the_admin_token_finds_nothing_either(admin_server: LiveServer, tmp_path: Path) -> None:
    """Authorised, the admin routes really re-index and reload under the fuzzer, and stay in their schema."""
    _fuzz(
        admin_server.url, tmp_path, "--header", f"Authorization: Bearer {TOKEN}", "--include-path-regex", "/api/admin/"
    )


def test_every_error_has_the_one_documented_shape(client: httpx.Client) -> None:
    failures = [
        client.post("/api/ask", json={"question": "ok?", "topk": 5}),  # unknown field: refused, not ignored
        client.post("/api/ask", content=b"question=hi", headers={"content-type": "application/x-www-form-urlencoded"}),
        client.get("/api/ask"),
        client.get("/api/nowhere"),
    ]
    assert [failure.status_code for failure in failures] == [422, 422, 405, 404]
    for failure in failures:
        body = failure.json()
        assert set(body) == {"detail", "errors"} and isinstance(body["detail"], str) and body["detail"]
    unknown, form = failures[0].json(), failures[1].json()
    assert "topk is not a field" in unknown["detail"]
    assert unknown["errors"] == [{"loc": ["body", "topk"], "msg": unknown["detail"], "type": "extra_forbidden"}]
    assert "Content-Type: application/json" in form["detail"]
    schema = client.get("/openapi.json").json()
    assert set(schema["paths"]["/api/ask"]["post"]["responses"]) == {"200", "400", "413", "422", "429", "500", "503"}
    assert schema["components"]["schemas"]["ErrorBody"]["required"] == ["detail"]


def test_invalid_utf8_is_a_400_that_says_so(client: httpx.Client) -> None:
    response = client.post(
        "/api/ask", content=b'{"question": "\xff\xfe hi"}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert "not valid UTF-8" in response.json()["detail"]


def test_a_float_that_is_an_integer_is_an_integer(client: httpx.Client) -> None:
    """JSON Schema counts 2.0 as an integer, so a schema-generated client may send it."""
    assert (
        len(client.post("/api/ask", json={"question": "what do spasms look like", "top_k": 1.0}).json()["answers"]) == 1
    )
    assert client.post("/api/ask", json={"question": "what do spasms look like", "top_k": 1.5}).status_code == 422


def _raw(url: str, head: bytes, body: bytes) -> bytes:
    """Send `head` and the first part of a body, then read: a server that waited for the rest would time out."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(head + body)
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:  # a reset may drop a reply: the caller's assertion then says so
                break
            if not chunk:
                break
            reply += chunk
        return reply


def _chunked_past_the_limit(limit: int) -> bytes:
    """A chunked body whose very last byte is the one past `limit`, and no final chunk (it never ends).

    The server refuses at that byte, so nothing it has not read is left in its socket when it closes;
    unread bytes there would make the kernel answer with a reset that can drop the 413 in flight.
    """
    first = b"a" * 600_000
    rest = b"a" * (limit + 1 - len(first))
    return b"%x\r\n" % len(first) + first + b"\r\n" + b"%x\r\n" % len(rest) + rest


def test_a_huge_body_is_refused_with_413_before_it_is_read(live_server: LiveServer, settings: Settings) -> None:
    declared = (
        b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 20000000\r\n\r\n"
    )
    reply = _raw(live_server.url, declared, b'{"question": "' + b"a" * 1000)  # 20 MB announced, 1 KB sent
    assert reply.startswith(b"HTTP/1.1 413 "), reply[:200]
    assert b'"detail":"the request body is larger than 1048576 bytes' in reply
    chunked = (
        b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    reply = _raw(live_server.url, chunked, _chunked_past_the_limit(settings.max_body_bytes))
    assert reply.startswith(b"HTTP/1.1 413 "), reply[:200]


@pytest.mark.parametrize(
    "question",
    [
        "my baby 👶 keeps twitching 😟😟 is that ok??",
        "طفلي يرتجف أثناء النوم هل هذا طبيعي",  # Arabic (right to left)
        "התינוק שלי רועד בשינה",  # Hebrew
        "我的宝宝睡觉时抽搐正常吗",
        "my baby\u0000 twitches\u0007 in\u001b[31m sleep\u200f\ufeff",
        "spasms " * 142 + "spasm",  # 1,000 characters, one word
        "\U0001f476" * 1000,
    ],
)
def test_unusual_but_valid_text_is_answered_or_abstained(client: httpx.Client, question: str) -> None:
    response = client.post("/api/ask", json={"question": question})
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["abstained"], bool)


@pytest.fixture(scope="module")
def throttled(service: QAService, settings: Settings) -> Iterator[LiveServer]:
    from qa.web import create_web_app

    yield from serve(create_web_app(service, settings.model_copy(update={"rate_limit": 30, "rate_burst": 3})))


def test_one_client_over_its_rate_gets_429_with_retry_after(throttled: LiveServer) -> None:
    ask = {"question": "what do infantile spasms look like"}
    with httpx.Client(base_url=throttled.url, timeout=30) as http:
        assert [http.post("/api/ask", json=ask).status_code for _ in range(3)] == [200, 200, 200]
        refused = http.post("/api/ask", json=ask)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert "too many requests" in refused.json()["detail"] and refused.json()["errors"] == []
        chat = http.post("/gradio_api/queue/join", json={})  # the chat's endpoint shares the client's budget
        assert chat.status_code == 429 and chat.headers["Retry-After"]
        assert http.get("/api/health").status_code == 200  # only what costs a model call is limited
        # Another client (its address as a trusted local proxy reports it) has its own budget.
        other = http.post("/api/ask", json=ask, headers={"X-Forwarded-For": "203.0.113.7"})
        assert other.status_code == 200


def test_cors_is_closed_by_default_for_the_api_and_the_chat(client: httpx.Client) -> None:
    evil = {"Origin": "https://evil.example", "Host": "qa.example.org"}  # not localhost: Gradio's own rule is off
    asked = client.post("/api/ask", json={"question": "what are spasms"}, headers=evil)
    assert "access-control-allow-origin" not in asked.headers
    for path in ("/api/ask", "/gradio_api/queue/join"):
        preflight = client.options(path, headers={**evil, "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in preflight.headers, path
    joined = client.post("/gradio_api/queue/join", json={}, headers=evil)
    assert "access-control-allow-origin" not in joined.headers


def test_cors_opens_to_the_configured_origins_only(service: QAService, settings: Settings) -> None:
    from qa.web import create_web_app

    app = create_web_app(service, settings.model_copy(update={"cors_origins": ["https://app.example"]}))
    for server in serve(app):
        preflight = httpx.options(
            f"{server.url}/api/ask",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        other = httpx.post(f"{server.url}/api/ask", json={"question": "hi"}, headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_security_headers(client: httpx.Client) -> None:
    for path in ("/", "/docs"):
        page = client.get(path)
        assert page.headers["content-type"].startswith("text/html"), path
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "no-referrer"
    answer = client.post("/api/ask", json={"question": "what are spasms"})
    assert answer.headers["cache-control"] == "no-store" and answer.headers["x-content-type-options"] == "nosniff"
    assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["x-request-id"])
    mine = client.get("/api/health", headers={"X-Request-ID": "client-42"})
    assert mine.headers["x-request-id"] == "client-42"
    forged = client.get("/api/health", headers={"X-Request-ID": "x status=200 path=/fake"})  # would forge a log line
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["x-request-id"])


def test_token_buckets_refill_per_client_and_stay_bounded() -> None:
    now = [0.0]
    buckets = TokenBuckets(per_minute=60, burst=2, clock=lambda: now[0], max_clients=3)
    assert [buckets.take("a"), buckets.take("a")] == [0.0, 0.0]
    assert buckets.take("a") == pytest.approx(1.0)  # one a second: the next token in 1 s
    assert buckets.take("b") == 0.0  # its own bucket
    now[0] = 0.5
    assert buckets.take("a") == pytest.approx(0.5)
    now[0] = 1.0
    assert buckets.take("a") == 0.0
    now[0] = 100.0  # all refilled: the full buckets are forgotten when the table is full
    for client in ("c", "d", "e", "f"):
        assert buckets.take(client) == 0.0
    assert len(buckets._buckets) <= 3


def test_ipv6_clients_are_counted_by_their_slash_64_and_admin_calls_are_limited_too() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:203.0.113.7") == "203.0.113.7" == client_key("203.0.113.7")
    assert client_key("testclient") == "testclient"
    assert limited({"method": "POST", "path": "/api/admin/reload"})
    assert limited({"method": "POST", "path": "/gradio_api/queue/join"})
    assert not limited({"method": "GET", "path": "/api/health"})


def test_gradio_routes_the_chat_never_uses_are_closed(client: httpx.Client) -> None:
    upload = client.post("/gradio_api/upload", files={"files": ("a.txt", b"x" * 1000)})
    assert upload.status_code == 404 and "takes no files" in upload.json()["detail"]
    assert client.get("/gradio_api/stream/abc/close").status_code == 404


def test_a_chunked_body_a_route_never_reads_closes_the_connection(live_server: LiveServer) -> None:
    head = b"POST /api/nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    reply = _raw(live_server.url, head, b"5\r\nhello\r\n")  # the body never ends: it must not be drained
    assert reply.startswith(b"HTTP/1.1 404 ") and b"connection: close" in reply.lower()


def test_a_body_over_the_limit_sent_to_a_stream_ends_cleanly(
    live_server: LiveServer, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    head = b"GET /gradio_api/heartbeat/some-session HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    uvicorn = logging.getLogger("uvicorn")  # it does not propagate to the root logger caplog listens on
    uvicorn.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.ERROR):
            _raw(live_server.url, head, _chunked_past_the_limit(settings.max_body_bytes))
            health = httpx.get(f"{live_server.url}/api/health")
    finally:
        uvicorn.removeHandler(caplog.handler)
    assert health.status_code == 200
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]


def test_an_unforeseen_failure_is_a_json_500_with_the_request_id(caplog: pytest.LogCaptureFixture) -> None:
    """The middleware itself, around an app that fails (the product has no route that does on purpose)."""
    import asyncio

    from qa.api.accesslog import AccessLog

    typed = "what the user typed"

    async def failing(scope: object, receive: object, send: object) -> None:
        raise KeyError(typed)  # an exception's message may quote the user: it must not reach the log

    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": "GET", "path": "/api/x", "raw_path": b"/api/x", "headers": []}
    with caplog.at_level(logging.INFO, logger="qa"):
        asyncio.run(AccessLog(failing)(scope, receive, send))  # type: ignore[arg-type]
    start, body = sent[0], json.loads(sent[1]["body"])  # type: ignore[arg-type]
    assert start["status"] == 500
    request_id = dict(start["headers"])[b"x-request-id"].decode()  # type: ignore[call-overload]
    assert request_id in body["detail"] and body["errors"] == []
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "unhandled KeyError" in logged and typed not in logged
    assert f"request_id={request_id} method=GET path=/api/x status=500" in logged
