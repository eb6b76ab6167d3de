"""Speed benchmark: the product beside the raw model, in one run. `make bench` (never the tests).

The reference is the model itself: `SentenceTransformer.encode` of one query (latency) and of all the
load's questions in batches of 32 (throughput), measured here first, in this process. Then, for each
backend (`QA_BACKEND`): its own encode, `ask` in-process, a real `qa serve` on 127.0.0.1 (start-up to
its first answer, one request at a time, and `--concurrency` connections at once), and answer quality
on the labelled sets (the fit's own sets, each judged without its own example questions: a comparison
between backends, not a held-out figure). Last,
the command line's start-up, and optionally (`--build-corpus`) a build beside the raw encode of the
same texts, with peak memory. Every figure is printed as a table with its ratio to the raw model.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpora import SEED_SETS, labelled
from bench.serving import Load, load, served
from qa.batching import BatchingEmbedder
from qa.builder import build
from qa.config import PROJECT_ROOT, Settings
from qa.embedder import SentenceTransformerEmbedder, open_embedder
from qa.evaluate import Labelled
from qa.service import open_service

Rows = list[tuple[str, str, str]]
BACKENDS = ("torch", "onnx", "onnx-int8")


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


def cycle(items: list[str]) -> Callable[[], str]:
    state = iter(range(10**9))
    return lambda: items[next(state) % len(items)]


def questions() -> tuple[list[str], dict[str, list[Labelled]]]:
    """Short questions for the load (the labelled sets' questions up to 120 characters), and the sets."""
    sets = {name: labelled(name) for name in SEED_SETS}
    short = list(dict.fromkeys(i.question for items in sets.values() for i in items if len(i.question) <= 120))
    return short, sets


def raw_model(pool: list[str], total: int, repeats: int) -> tuple[float, float, Rows]:
    model = SentenceTransformerEmbedder("all-MiniLM-L6-v2").model
    next_q = cycle(pool)
    one = timed(lambda: model.encode([next_q()], normalize_embeddings=True), repeats)
    texts = [pool[i % len(pool)] for i in range(total)]
    model.encode(texts[:64], batch_size=32)
    started = time.perf_counter()
    model.encode(texts, batch_size=32, normalize_embeddings=True)
    rate = total / (time.perf_counter() - started)
    p50 = statistics.median(one)
    rows = [
        ("raw encode, one query p50 / p99", f"{p50:.2f} / {pct(one, 0.99):.2f} ms", "1.00x"),
        (f"raw encode, {total} queries in batches of 32", f"{rate:.0f} /s", "1.00x"),
    ]
    return p50, rate, rows


def load_rows(name: str, result: Load, raw_rate: float) -> Rows:
    bad = sum(n for status, n in result.statuses.items() if status != 200) + result.errors
    p50, p99 = pct(result.latencies_ms, 0.5), pct(result.latencies_ms, 0.99)
    return [
        (
            f"{name}: {len(result.latencies_ms)} requests",
            f"{result.rate:.0f} /s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, {bad} not 200",
            f"{result.rate / raw_rate:.2f}x",
        )
    ]


def with_long_messages(pool: list[str], share: float = 0.1) -> list[dict[str, object]]:
    """The load's questions with `share` of them replaced by ~950-character messages (a story, then the question):
    they share model calls with the short ones, so this shows what a long message costs everyone else."""
    rng = random.Random(11)
    payloads: list[dict[str, object]] = []
    for question in pool:
        if rng.random() < share:
            story = " ".join(rng.sample(pool, len(pool)))[:900]
            question = f"{story} {question}"[:1000]
        payloads.append({"question": question})
    return payloads


def backend(
    name: str,
    pool: list[str],
    sets: dict[str, list[Labelled]],
    args: argparse.Namespace,
    raw: tuple[float, float],
    root: Path,
) -> Rows:
    raw_p50, raw_rate = raw
    settings = Settings(corpus=[PROJECT_ROOT / "corpus"], index_dir=root / name / "index", backend=name)  # type: ignore[arg-type]
    started = time.perf_counter()
    embedder = open_embedder(settings)
    rows: Rows = [(f"[{name}] model load (ONNX: export if not cached)", f"{time.perf_counter() - started:.1f} s", "")]
    report = build(settings.corpus, settings.index_dir, embedder)
    next_q = cycle(pool)
    rows.append((f"[{name}] build, seed corpus", f"{report.seconds:.2f} s", ""))
    one = timed(lambda: embedder.encode([next_q()]), args.repeats)
    rows.append(
        (
            f"[{name}] encode, one query p50",
            f"{statistics.median(one):.2f} ms",
            f"{statistics.median(one) / raw_p50:.2f}x",
        )
    )
    service = open_service(settings, BatchingEmbedder(embedder))
    ask = timed(lambda: service.ask(next_q()), args.repeats)
    rows.append(
        (f"[{name}] ask in-process p50", f"{statistics.median(ask):.2f} ms", f"{statistics.median(ask) / raw_p50:.2f}x")
    )
    judged = [service.evaluate(items, unseen=True) for items in sets.values()]
    inside, outside = sum(r.in_scope for r in judged), sum(r.out_of_scope for r in judged)
    right = sum(r.acceptable_at_1 * r.in_scope for r in judged) / inside
    answered = sum(r.answered * r.in_scope for r in judged) / inside
    abstained = sum(r.abstained * r.out_of_scope for r in judged) / outside
    rows.append(
        (
            f"[{name}] labelled sets ({inside} in, {outside} off): acc@1 / answered / abstained",
            f"{right:.1%} / {answered:.1%} / {abstained:.1%}",
            "",
        )
    )
    env = {"QA_BACKEND": name}
    payloads = [{"question": q} for q in pool]
    with served(settings.index_dir, env) as (url, first_answer, chat_page):
        rows.append(
            (
                f"[{name}] qa serve: start to first answer / to the chat page",
                f"{first_answer:.1f} / {chat_page:.1f} s",
                "",
            )
        )
        single = load(url, payloads, args.repeats, 1)
        p50 = pct(single.latencies_ms, 0.5)
        rows.append(
            (
                f"[{name}] HTTP /api/ask, 1 at a time, p50 / p99",
                f"{p50:.2f} / {pct(single.latencies_ms, 0.99):.2f} ms",
                f"{p50 / raw_p50:.2f}x",
            )
        )
        rows += load_rows(
            f"[{name}] HTTP, {args.concurrency} at once", load(url, payloads, args.requests, args.concurrency), raw_rate
        )
        mixed = load(url, with_long_messages(pool), args.requests, args.concurrency)
        rows += load_rows(f"[{name}] the same, 1 in 10 a ~950-character message", mixed, raw_rate)
    if name == args.workers_backend:
        with served(settings.index_dir, env, workers=2) as (url, _, _):
            load(url, payloads, 200, args.concurrency)  # both workers warm
            rows += load_rows(
                f"[{name}] HTTP, {args.concurrency} at once, 2 workers",
                load(url, payloads, args.requests, args.concurrency),
                raw_rate,
            )
    return rows


def command_line() -> Rows:
    qa = str(Path(sys.executable).with_name("qa"))
    rows: Rows = []
    for label, command in (("qa --help", [qa, "--help"]), ("qa index --check", [qa, "index", "--check"])):
        samples = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run(command, capture_output=True, check=False, cwd=PROJECT_ROOT)
            samples.append(time.perf_counter() - started)
        rows.append((f"{label} (median of 3)", f"{statistics.median(samples):.2f} s", ""))
    return rows


STARTUP = """
import json, time
t = time.perf_counter(); stages = {}
def mark(name):
    global t
    now = time.perf_counter(); stages[name] = round(now - t, 2); t = now
from qa.config import Settings; import qa.web; mark("import the web app (FastAPI, FAISS)")
from qa.embedder import open_embedder
settings = Settings(index_dir=__INDEX__, backend=__BACKEND__)
embedder = open_embedder(settings); mark("load the model")
from qa.engine import Engine
engine = Engine(settings, embedder); mark("open the index and the safety layer")
app = qa.web.create_web_app(engine.service, settings, engine); mark("build the web app")
engine.service.ask("is twitching in sleep normal"); mark("first answer")
import ui.chat; mark("after the first answer: import the chat (Gradio)")
ui.chat.chat_app(app, engine.service, settings); mark("after the first answer: build the chat page")
print(json.dumps(stages))
"""


def startup_stages(index_dir: Path, name: str) -> Rows:
    script = STARTUP.replace("__INDEX__", repr(str(index_dir))).replace("__BACKEND__", repr(name))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=PROJECT_ROOT)
    stages: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return [(f"[{name}] start-up: {stage}", f"{seconds:.2f} s", "") for stage, seconds in stages.items()]


def build_rows(corpus: Path, entries: int, backends: list[str], root: Path) -> Rows:
    """`qa index` as a fresh process into a new folder (so no embedding is cached) against the raw encode of the
    texts it embeds. The ONNX export is already in the model cache from the earlier measurements."""
    from bench.corpora import published_entries
    from qa.index import row_texts
    from qa.loaders import normalise

    chosen = published_entries(corpus)[:entries]
    # One entry per question as `qa index --check` compares them (case, punctuation and spacing aside).
    unique = list({normalise(entry.question): entry for entry in chosen}.values())
    source = root / "build-corpus.jsonl"
    source.write_text(
        "".join(json.dumps({"id": e.id, "question": e.question, "answer": e.answer}) + "\n" for e in unique)
    )
    texts = [text for entry in unique for _, text in row_texts(entry)]
    model = SentenceTransformerEmbedder("all-MiniLM-L6-v2").model
    started = time.perf_counter()
    model.encode(texts, batch_size=32, normalize_embeddings=True)
    raw = time.perf_counter() - started
    rows: Rows = [(f"raw encode of a build's {len(texts)} texts ({len(unique)} entries)", f"{raw:.1f} s", "1.00x")]
    qa = str(Path(sys.executable).with_name("qa"))
    for name in backends:
        command = [qa, "index", "-q", "--corpus", str(source), "--index-dir", str(root / name / "big")]
        env = {**os.environ, "QA_BACKEND": name}
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, cwd=PROJECT_ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        ok = "" if status == 0 else " (FAILED)"
        rows.append(
            (
                f"[{name}] qa index of the same entries, whole process{ok}",
                f"{seconds:.1f} s, {len(unique) / seconds:.0f} entries/s, peak {usage.ru_maxrss / 1024:.0f} MB",
                f"{seconds / raw:.2f}x",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=200, help="Requests per one-at-a-time measurement.")
    parser.add_argument("--requests", type=int, default=2000, help="Requests per concurrent load run.")
    parser.add_argument("--concurrency", type=int, default=32, help="Connections at once in the load runs.")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS), help="Backends to measure.")
    parser.add_argument("--workers-backend", default="onnx", help="Backend also measured with `qa serve --workers 2`.")
    parser.add_argument("--build-corpus", type=Path, help="Also time `qa index` of this corpus against raw encode.")
    parser.add_argument("--build-entries", type=int, default=2000, help="Entries of --build-corpus to build.")
    parser.add_argument("--build-only", action="store_true", help="Only the --build-corpus measurement.")
    args = parser.parse_args()

    pool, sets = questions()
    rows: Rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if not args.build_only:
            raw_p50, raw_rate, rows = raw_model(pool, args.requests, args.repeats)
            for name in args.backends:
                print(f"measuring {name}...", file=sys.stderr)
                rows += backend(name, pool, sets, args, (raw_p50, raw_rate), root)
                rows += startup_stages(root / name / "index", name)
            rows += command_line()
        if args.build_corpus:
            print("measuring builds...", file=sys.stderr)
            rows += build_rows(args.build_corpus, args.build_entries, args.backends, root)

    width = max(len(name) for name, _, _ in rows)
    values = max(len(value) for _, value, _ in rows)
    print(f"{'measure':<{width}}  {'value':<{values}}  vs raw model")
    print(f"{'-' * width}  {'-' * values}  ------------")
    for name, value, ratio in rows:
        print(f"{name:<{width}}  {value:<{values}}  {ratio}")


if __name__ == "__main__":
    main()
