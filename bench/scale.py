"""Exact vs approximate vector search as the corpus grows: build time, memory, latency, recall.

Synthetic unit vectors in 384 dimensions (MiniLM's), generated here:

* clustered: a unit-normalised mixture of Gaussians around a few thousand random centres, the way
  sentence embeddings bunch by topic; queries come from the same mixture but are never indexed rows;
* random: uniform on the sphere, no structure at all, the worst case for any approximate index.

Latency is one query per `search` call, timed with `perf_counter`, on `--search-threads` threads.
Memory per row is reported twice: the serialized index size (`faiss.serialize_index`), which is what
`vectors.faiss` weighs on disk, and the process RSS growth while the index was built, which also counts
allocator slack and, at small sizes, can undercount when the allocator reuses memory freed earlier.
Recall@k is the share of the exact top k found, averaged over the queries.

    nice -n 19 .venv/bin/python bench/scale.py                     # defaults, ~11 minutes
    nice -n 19 .venv/bin/python bench/scale.py --sizes 100000 --threads 1
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import faiss
import numpy as np

from qa.vectorindex import (
    CANDIDATE_ROWS,
    EXACT_MAX_ROWS,
    GRAPH_MAX_ROWS,
    IndexSpec,
    choose,
    create,
    describe,
    ivf_spec,
)

DIMENSION = 384
STARTED = time.perf_counter()


def progress(message: str) -> None:
    print(f"[{time.perf_counter() - STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


def unit(matrix: np.ndarray) -> np.ndarray:
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix


def random_rows(rng: np.random.Generator, rows: int) -> np.ndarray:
    return unit(rng.standard_normal((rows, DIMENSION), dtype=np.float32))


def clustered_rows(rng: np.random.Generator, rows: int, centres: np.ndarray, spread: float) -> np.ndarray:
    """Centre plus isotropic noise of norm ~`spread`, normalised; filled in chunks to bound peak memory."""
    out = np.empty((rows, DIMENSION), dtype=np.float32)
    for start in range(0, rows, 100_000):
        stop = min(rows, start + 100_000)
        noise = rng.standard_normal((stop - start, DIMENSION), dtype=np.float32) * np.float32(spread / DIMENSION**0.5)
        out[start:stop] = unit(centres[rng.integers(0, len(centres), stop - start)] + noise)
    return out


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def latencies_ms(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[float, float]:
    for query in queries[:5]:  # warm caches and the allocator
        index.search(query[None], k)
    times = []
    for query in queries:
        began = time.perf_counter()
        index.search(query[None], k)
        times.append(time.perf_counter() - began)
    p50, p99 = np.percentile(np.asarray(times) * 1e3, [50, 99])
    return float(p50), float(p99)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    k = truth.shape[1]
    return float(np.mean([len(set(f[:k].tolist()) & set(t.tolist())) / k for f, t in zip(found, truth, strict=True)]))


def timed(build: Callable[[], faiss.Index]) -> tuple[faiss.Index, float, int]:
    """The index, seconds to build it and RSS growth while building."""
    before = rss_bytes()
    began = time.perf_counter()
    index = build()
    return index, time.perf_counter() - began, rss_bytes() - before


def report(
    label: str, built: tuple[faiss.Index, float, int], queries: np.ndarray, truth: np.ndarray, search_threads: int
) -> list[str]:
    """One table row; `truth` is the exact top CANDIDATE_ROWS of each query (first 10 columns give recall@10)."""
    index, seconds, grown = built
    rows = index.ntotal
    file_bytes = faiss.serialize_index(index).nbytes
    info = describe(index)
    params = " ".join(f"{key}={value}" for key, value in info.items() if key != "kind") or "-"
    _, found = index.search(queries, CANDIDATE_ROWS)
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(search_threads)
    p50_10, p99_10 = latencies_ms(index, queries, 10)
    p50_k, p99_k = latencies_ms(index, queries, CANDIDATE_ROWS)
    faiss.omp_set_num_threads(threads)
    progress(f"{label} {rows:,} {info['kind']} {params}: built in {seconds:.1f}s, p50@10 {p50_10:.2f} ms")
    chosen = "*" if choose(rows).kind == info["kind"] else ""
    return [
        label,
        f"{rows:,}",
        f"{info['kind']}{chosen}",
        params,
        f"{seconds:.1f}",
        f"{file_bytes / rows:.0f}",
        f"{max(grown, 0) / rows:.0f}",
        f"{p50_10:.2f}",
        f"{p99_10:.2f}",
        f"{p50_k:.2f}",
        f"{p99_k:.2f}",
        f"{recall(found, truth[:, :10]):.3f}",
        f"{recall(found, truth):.3f}",
    ]


def sweep(index: faiss.Index, queries: np.ndarray, truth: np.ndarray, values: list[int], label: str) -> list[list[str]]:
    """Recall and latency of one built index at several efSearch (HNSW) or nprobe (IVF) values."""
    concrete = faiss.downcast_index(index)  # a view: `index` owns the memory and outlives it here
    rows = []
    for value in values:
        if isinstance(concrete, faiss.IndexHNSWFlat):
            concrete.hnsw.efSearch, setting = value, f"efSearch={value}"
        elif isinstance(concrete, faiss.IndexIVFFlat) and value <= concrete.nlist:
            concrete.nprobe, setting = value, f"nprobe={value}"
        else:
            continue
        _, found = index.search(queries, CANDIDATE_ROWS)
        p50, p99 = latencies_ms(index, queries, CANDIDATE_ROWS)
        rows.append(
            [
                label,
                f"{index.ntotal:,}",
                str(describe(index)["kind"]),
                setting,
                f"{recall(found, truth[:, :10]):.3f}",
                f"{recall(found, truth):.3f}",
                f"{p50:.2f}",
                f"{p99:.2f}",
            ]
        )
    return rows


def specs_for(args: argparse.Namespace, rows: int) -> list[IndexSpec]:
    """The approximate index `choose` picks for `rows`, and with `--kinds all` the other kind too."""
    chosen = choose(rows)
    specs = [chosen] if chosen.kind != "flat" else []
    if args.kinds == "all" or (not specs and args.force_approximate):
        specs = [IndexSpec("hnsw"), ivf_spec(rows)]
    if args.ef_search:
        specs = [replace(s, ef_search=args.ef_search) if s.kind == "hnsw" else s for s in specs]
    if args.nprobe:
        specs = [replace(s, nprobe=min(args.nprobe, s.nlist)) if s.kind == "ivf" else s for s in specs]
    return specs


def run_size(
    args: argparse.Namespace, data: str, rows: int, centres: np.ndarray
) -> tuple[list[list[str]], list[list[str]]]:
    """Exact, then the approximate kinds, on one freshly generated set."""
    faiss.omp_set_num_threads(args.threads)
    rng = np.random.default_rng([args.seed, rows, int(data == "random")])
    progress(f"{data} {rows:,}: generating")
    if data == "random":
        vectors, queries = random_rows(rng, rows), random_rows(rng, args.queries)
    else:
        vectors = clustered_rows(rng, rows, centres, args.spread)
        queries = clustered_rows(rng, args.queries, centres, args.spread)  # fresh draws, not indexed rows
    exact = timed(lambda: create(IndexSpec("flat"), vectors))
    _, truth = exact[0].search(queries, CANDIDATE_ROWS)
    table = [report(data, exact, queries, truth, args.search_threads)]
    del exact
    swept: list[list[str]] = []
    for spec in specs_for(args, rows):
        faiss.omp_set_num_threads(args.threads)
        progress(f"{data} {rows:,}: building {spec}")
        built = timed(partial(create, spec, vectors))
        table.append(report(data, built, queries, truth, args.search_threads))
        faiss.omp_set_num_threads(args.search_threads)
        swept += sweep(built[0], queries, truth, args.sweep_ef if spec.kind == "hnsw" else args.sweep_nprobe, data)
        del built
    return table, swept


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    print(f"\n{title}")
    for line in [header, ["-" * w for w in widths], *rows]:
        print(
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(line, widths, strict=True))
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[100_000, 1_000_000],
        help="rows of clustered data to compare exact and approximate search on (default: %(default)s)",
    )
    parser.add_argument(
        "--random-sizes",
        type=int,
        nargs="*",
        default=[100_000],
        help="rows of pure random (structureless, worst case) data to compare on (default: %(default)s)",
    )
    parser.add_argument(
        "--exact-sizes",
        type=int,
        nargs="*",
        default=[EXACT_MAX_ROWS, 30_000, 50_000],
        help="extra clustered sizes timed with exact search only, around EXACT_MAX_ROWS (default: %(default)s)",
    )
    parser.add_argument(
        "--queries", type=int, default=200, help="queries per size, none of them indexed (default: %(default)s)"
    )
    parser.add_argument(
        "--centres", type=int, default=4000, help="mixture components of the clustered data (default: %(default)s)"
    )
    parser.add_argument(
        "--spread",
        type=float,
        default=1.0,
        help="noise norm relative to the unit centre before normalising; 1.0 puts a point at cosine "
        "~0.7 to its centre and ~0.5 to its cluster mates (default: %(default)s)",
    )
    parser.add_argument(
        "--ef-search",
        type=int,
        default=0,
        help="efSearch of the approximate index's main row (default: the module's choice)",
    )
    parser.add_argument(
        "--nprobe", type=int, default=0, help="nprobe of the IVF index's main row (default: the module's choice)"
    )
    parser.add_argument(
        "--kinds",
        choices=["chosen", "all"],
        default="all",
        help="approximate kinds to build at each size: the one choose() picks, or HNSW and IVF both so the "
        "table shows why (default: %(default)s)",
    )
    parser.add_argument(
        "--sweep-ef",
        type=int,
        nargs="*",
        default=[160, 256, 384],
        help="efSearch values to re-measure each built HNSW graph at (default: %(default)s)",
    )
    parser.add_argument(
        "--sweep-nprobe",
        type=int,
        nargs="*",
        default=[16, 32, 64, 128],
        help="nprobe values to re-measure each built IVF index at (default: %(default)s)",
    )
    parser.add_argument(
        "--force-approximate",
        action="store_true",
        help="with --kinds chosen, also build the approximate kinds for --sizes at or below EXACT_MAX_ROWS",
    )
    parser.add_argument(
        "--threads", type=int, default=2, help="FAISS threads for building and ground truth (default: %(default)s)"
    )
    parser.add_argument(
        "--search-threads", type=int, default=1, help="FAISS threads while timing single queries (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    args = parser.parse_args()

    centres = random_rows(np.random.default_rng([args.seed, 1]), args.centres)
    main_rows: list[list[str]] = []
    sweep_rows: list[list[str]] = []
    jobs = [("clustered", n) for n in args.sizes] + [("random", n) for n in args.random_sizes]
    for data, rows in sorted(jobs, key=lambda job: job[1]):
        table, swept = run_size(args, data, rows, centres)
        main_rows += table
        sweep_rows += swept
    exact_rows = []
    faiss.omp_set_num_threads(args.search_threads)
    for rows in args.exact_sizes:
        rng = np.random.default_rng([args.seed, rows, 2])
        vectors = clustered_rows(rng, rows, centres, args.spread)
        exact = create(IndexSpec("flat"), vectors)
        for k in (10, CANDIDATE_ROWS):
            p50, p99 = latencies_ms(exact, clustered_rows(rng, args.queries, centres, args.spread), k)
            exact_rows.append([f"{rows:,}", str(k), f"{p50:.2f}", f"{p99:.2f}"])
        progress(f"exact only {rows:,}: done")

    print(
        f"{DIMENSION}-d unit vectors, inner product; {args.queries} queries per set, none of them indexed; "
        f"clustered = {args.centres} Gaussian centres, spread {args.spread}; random = uniform on the sphere "
        f"(worst case). Build on {args.threads} thread(s), single-query timing on {args.search_threads}."
    )
    print(
        f"choose(): exact up to EXACT_MAX_ROWS = {EXACT_MAX_ROWS:,}, HNSW up to GRAPH_MAX_ROWS = {GRAPH_MAX_ROWS:,}, "
        f"IVF above; e.g. {choose(GRAPH_MAX_ROWS)} and {choose(1_000_000)}. '*' marks the kind choose() picks."
    )
    header = [
        "data",
        "rows",
        "index",
        "params",
        "build s",
        "file B/row",
        "RSS B/row",
        "p50@10 ms",
        "p99@10 ms",
        f"p50@{CANDIDATE_ROWS} ms",
        f"p99@{CANDIDATE_ROWS} ms",
        "recall@10",
        f"recall@{CANDIDATE_ROWS}",
    ]
    print_table(
        "Exact vs approximate (file = serialized size; RSS = process growth while building, rough)", header, main_rows
    )
    if sweep_rows:
        head = [
            "data",
            "rows",
            "index",
            "setting",
            "recall@10",
            f"recall@{CANDIDATE_ROWS}",
            f"p50@{CANDIDATE_ROWS} ms",
            f"p99@{CANDIDATE_ROWS} ms",
        ]
        print_table("Search-setting sweep on the same built indexes", head, sweep_rows)
    if exact_rows:
        print_table("Exact search only, clustered, around the threshold", ["rows", "k", "p50 ms", "p99 ms"], exact_rows)
    print(f"\ntotal wall time {time.perf_counter() - STARTED:.0f} s")


if __name__ == "__main__":
    main()
