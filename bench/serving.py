"""A real `qa serve` process and a light load generator for it, both on 127.0.0.1 only.

The load generator speaks plain HTTP/1.1 over keep-alive sockets with asyncio, not through an HTTP
library: on a 2-core machine every cycle the client spends is taken from the server it measures, and a
hand-written request line costs a fraction of a full client's. Bounded in count and in time.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Started(NamedTuple):
    url: str
    first_answer: float
    """Seconds from the command to its first answer on `/api/ask`."""
    chat_page: float
    """Seconds from the command to the chat page (it loads after the API answers: `ui.mount`)."""


@contextmanager
def served(index_dir: Path, env: dict[str, str] | None = None, workers: int = 1) -> Iterator[Started]:
    """`qa serve` in its own process, as in production, once its API answers and its chat page is up (so no
    measurement shares the machine with the chat still loading)."""
    port = free_port()
    qa = Path(sys.executable).with_name("qa")
    command = [str(qa), "serve", "--port", str(port), "--index-dir", str(index_dir), "--workers", str(workers)]
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # The load comes from one address: without this, the per-client limit would answer most of it with 429.
        env={**os.environ, "QA_RATE_LIMIT": "0", **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                reply = httpx.post(f"{url}/api/ask", json={"question": "is twitching in sleep normal"}, timeout=5)
                if reply.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"qa serve did not start: {' '.join(command)}")
            time.sleep(0.05)
        first_answer = time.perf_counter() - started
        while httpx.get(f"{url}/", timeout=120).status_code != 200:  # held until the chat is up; 503 if it failed
            if time.monotonic() > deadline:
                raise RuntimeError(f"qa serve's chat did not start: {' '.join(command)}")
            time.sleep(0.05)
        yield Started(url, first_answer, time.perf_counter() - started)
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass(frozen=True)
class Load:
    latencies_ms: list[float]
    statuses: dict[int, int]
    errors: int
    seconds: float

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds


def _request(port: int, path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _one_connection(
    port: int, path: str, bodies: Sequence[bytes], next_index: Iterator[int], out: list[tuple[float, int]]
) -> int:
    """Sends requests one after another on one keep-alive connection; returns how many failed outright."""
    errors = 0
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for index in next_index:
            started = time.perf_counter()
            writer.write(_request(port, path, bodies[index % len(bodies)]))
            try:
                status_line = await reader.readline()
                status = int(status_line.split()[1])
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
            except (ValueError, IndexError, asyncio.IncompleteReadError, ConnectionError):
                errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            out.append(((time.perf_counter() - started) * 1000, status))
    finally:
        writer.close()
    return errors


async def _load(port: int, path: str, bodies: Sequence[bytes], total: int, concurrency: int) -> Load:
    indices = iter(range(total))
    out: list[tuple[float, int]] = []
    started = time.perf_counter()
    failed = await asyncio.wait_for(
        asyncio.gather(*(_one_connection(port, path, bodies, indices, out) for _ in range(concurrency))),
        timeout=600,
    )
    seconds = time.perf_counter() - started
    statuses: dict[int, int] = {}
    for _, status in out:
        statuses[status] = statuses.get(status, 0) + 1
    return Load([ms for ms, _ in out], statuses, sum(failed), seconds)


def load(url: str, payloads: Sequence[dict[str, object]], total: int, concurrency: int, path: str = "/api/ask") -> Load:
    """`total` requests (payloads in turn) over `concurrency` connections, as fast as the server answers."""
    port = int(url.rsplit(":", 1)[1])
    bodies = [json.dumps(payload).encode() for payload in payloads]
    return asyncio.run(_load(port, path, bodies, total, concurrency))


def http_request(
    method: str,
    path: str,
    body: bytes = b"",
    content_type: str | None = "application/json",
    headers: dict[str, str] | None = None,
) -> bytes:
    """One whole HTTP/1.1 request, head and body, as bytes; any method, content type, headers and body bytes."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    if body or method not in ("GET", "HEAD"):
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    """Header names in lower case; a repeated header keeps its last value."""
    body: bytes

    @property
    def keep_alive(self) -> bool:
        return self.headers.get("connection", "").lower() != "close"


async def read_reply(reader: asyncio.StreamReader) -> Reply:
    """One HTTP/1.1 response from `reader` (Content-Length, chunked, or up to the close); raises on a broken one."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("the server closed the connection before answering")
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\r\n", b"\n"):
        if not line:
            raise asyncio.IncompleteReadError(b"", None)
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        parts = []
        while size := int((await reader.readline()).split(b";")[0], 16):
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        while (await reader.readline()) not in (b"\r\n", b"\n", b""):  # trailers
            pass
        body = b"".join(parts)
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif status in (204, 304) or 100 <= status < 200:
        body = b""
    else:
        body = await reader.read()
        headers["connection"] = "close"
    return Reply(status, headers, body)
