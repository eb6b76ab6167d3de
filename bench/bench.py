"""Speed benchmark: prints a table. Run with `make bench` (never by the tests).

Measures, in one run: index build time, `ask` latency p50/p99 in-process and
over HTTP (real uvicorn on 127.0.0.1), and the raw `model.encode` time of one
query, so the overhead of everything around the model is visible as a ratio.
Optional: --corpus PATH to also time a build of a bigger corpus (e.g. MedQuAD).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from qa.builder import build
from qa.config import PROJECT_ROOT, Settings
from qa.embedder import SentenceTransformerEmbedder
from qa.service import open_service

QUESTIONS = [
    "my baby's face twitches, is that normal?",
    "what do febrile seizures look like",
    "how long do spasams last in a 6 month old",
    "what causes west syndrome",
    "how do i bake sourdough bread",
]


@contextmanager
def served(index_dir: Path) -> Iterator[str]:
    """`qa serve` in its own process, as in production (a thread here would share our GIL)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    qa = Path(sys.executable).with_name("qa")
    process = subprocess.Popen(
        [str(qa), "serve", "--port", str(port), "--index-dir", str(index_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("qa serve did not start")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def timed(action: Callable[[], object], repeats: int) -> list[float]:
    action()  # warm-up
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=200, help="Requests per measurement.")
    parser.add_argument("--corpus", type=Path, action="append", help="Extra corpus to time a build of.")
    args = parser.parse_args()

    rows: list[tuple[str, str]] = []
    started = time.perf_counter()
    embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    rows.append(("model load", f"{time.perf_counter() - started:.2f} s"))
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(corpus=[PROJECT_ROOT / "corpus"], index_dir=Path(tmp) / "index")
        report = build(settings.corpus, settings.index_dir, embedder)
        rows.append((f"index build, seed corpus ({report.manifest.entries} entries)", f"{report.seconds:.2f} s"))
        for extra in args.corpus or []:
            big = build([extra], Path(tmp) / "big", embedder)
            rows.append((f"index build, {extra.name} ({big.manifest.entries} entries)", f"{big.seconds:.1f} s"))
        service = open_service(settings, embedder)
        n = len(QUESTIONS)
        counter = iter(range(10**9))

        def next_question() -> str:
            return QUESTIONS[next(counter) % n]

        encode = timed(lambda: embedder.encode([next_question()]), args.repeats)
        ask = timed(lambda: service.ask(next_question()), args.repeats)
        with served(settings.index_dir) as url, httpx.Client(base_url=url, timeout=30) as client:
            http = timed(lambda: client.post("/api/ask", json={"question": next_question()}), args.repeats)

    for name, samples in (("model.encode, one query", encode), ("ask, in-process", ask), ("ask, over HTTP", http)):
        rows.append((f"{name} p50 / p99", f"{pct(samples, 0.5):.1f} / {pct(samples, 0.99):.1f} ms"))
    encode_p50 = statistics.median(encode)
    rows.append(("ask in-process / encode (p50 ratio)", f"{statistics.median(ask) / encode_p50:.2f}x"))
    rows.append(("ask over HTTP / encode (p50 ratio)", f"{statistics.median(http) / encode_p50:.2f}x"))

    width = max(len(name) for name, _ in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 20}")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
