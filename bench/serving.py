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

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(index_dir: Path, env: dict[str, str] | None = None, workers: int = 1) -> Iterator[tuple[str, float]]:
    """`qa serve` in its own process, as in production; yields its URL and the seconds to its first answer."""
    port = free_port()
    qa = Path(sys.executable).with_name("qa")
    command = [str(qa), "serve", "--port", str(port), "--index-dir", str(index_dir), "--workers", str(workers)]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})}
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
        yield url, time.perf_counter() - started
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
