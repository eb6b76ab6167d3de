"""Which FAISS index holds the unit vectors, chosen by how many rows there are.

Measured with `bench/scale.py` on this 2-core machine (one search thread, niced, another benchmark
sometimes sharing it), 384-d unit vectors around 4,000 Gaussian centres, queries drawn apart from the rows:

* exact (`IndexFlatIP`) costs ~75 ns a row per query: p50 1.1 ms at 20k rows (2.0 loaded), 2.3 at 30k,
  3.8 at 50k, 8 at 100k, 75 at 1M;
* HNSW (M=32, efConstruction=40, efSearch=256): recall@10 0.999 at 100k (1.9 ms p50), 0.982 at 300k,
  0.896 at 1M, where efSearch 384 barely helps (0.900); likely because inside clusters of hundreds of
  rows, near-equidistant in many dimensions, a greedy graph walk stops short (it is 0.35 on random data);
* IVF (lists of ~256 rows, nprobe 64) is the reverse: 0.938 at 100k, 0.982 at 300k, 1.000 at 1M (1.5 ms,
  0.995+ with 2048 lists too, so not just 4096 lists matching 4,000 centres), scanning probed clusters
  whole; at 1M it built in 83 s against HNSW's 197 s and weighs 1,558 bytes a row against 1,808.

So: exact while a scan is cheap, a graph in the middle, inverted lists for the large corpora the issue is
about. None of them is good on pure random vectors (no structure), which sentence embeddings are not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import faiss
import numpy as np

CANDIDATE_ROWS = 160
"""The k the retriever asks for (`qa.retriever.DENSE_CANDIDATE_ROWS`): a narrower beam (HNSW) or too few
probed rows (IVF) would hand it a candidate pool that is mostly guesswork."""

EXACT_MAX_ROWS = 20_000
"""Up to this many rows search stays exact: p50 1.0-1.1 ms for one query (2.0 ms loaded), well under the
5 ms budget; 30k took 2.3 ms (3.2 loaded), 50k 3.8 (5.6 loaded), and below ~20k a graph is no faster."""

GRAPH_MAX_ROWS = 300_000
"""HNSW up to here, IVF above: at 300k both gave recall@10 0.982 at ~1.9 ms; HNSW wins below, IVF above."""

HNSW_M = 32
"""Neighbours per node (64 on the bottom layer): M=16 only just reached 0.98 at 100k; costs 272 bytes a row."""

HNSW_EF_CONSTRUCTION = 40
"""FAISS's default: 80 doubled the build (43 s -> 93 s at 100k, one thread) for 0.998 -> 1.000 recall."""

HNSW_EF_SEARCH = 256
"""At least `CANDIDATE_ROWS`; 256 over 160 lifts recall@160 0.56 -> 0.66 at 100k for ~1 ms."""

IVF_ROWS_PER_LIST = 256
"""Lists are sized by rows, not sqrt(rows), so a probe costs the same at any size; 4096 lists at 1M."""

IVF_NPROBE = 64
"""Lists scanned per query (~16k rows, 1.5 ms at 1M): 16 was enough at 1M (1.000) but 32 gave 0.977 at 300k."""

IVF_TRAIN_ROWS_PER_LIST = 64
"""k-means sample per list (262k rows at 1M), 10 iterations: training is most of the build time."""

Kind = Literal["flat", "hnsw", "ivf"]


@dataclass(frozen=True)
class IndexSpec:
    """What to build; the fields of the other kinds are ignored."""

    kind: Kind
    m: int = HNSW_M
    ef_construction: int = HNSW_EF_CONSTRUCTION
    ef_search: int = HNSW_EF_SEARCH
    nlist: int = 0
    nprobe: int = IVF_NPROBE

    def __post_init__(self) -> None:
        if self.kind not in ("flat", "hnsw", "ivf"):
            raise ValueError(f"unknown index kind {self.kind!r}")
        if self.kind == "hnsw" and (self.m < 2 or self.ef_construction < 1):
            raise ValueError(f"invalid HNSW parameters: M={self.m}, efConstruction={self.ef_construction}")
        if self.kind == "hnsw" and self.ef_search < CANDIDATE_ROWS:
            # FAISS would silently widen the beam to k; a spec that says less would misreport what runs.
            raise ValueError(f"efSearch {self.ef_search} is below the retriever's k of {CANDIDATE_ROWS}")
        if self.kind == "ivf" and not 1 <= self.nprobe <= self.nlist:
            raise ValueError(f"invalid IVF parameters: nlist={self.nlist}, nprobe={self.nprobe}")


def choose(rows: int) -> IndexSpec:
    """Exact while a scan is cheap, then the approximate kind that measured best at that size."""
    if rows < 0:
        raise ValueError(f"rows must not be negative, got {rows}")
    if rows <= EXACT_MAX_ROWS:
        return IndexSpec("flat")
    return IndexSpec("hnsw") if rows <= GRAPH_MAX_ROWS else ivf_spec(rows)


def ivf_spec(rows: int) -> IndexSpec:
    """IVF shaped for `rows` (what `choose` gives above GRAPH_MAX_ROWS; the bench builds it below to compare)."""
    nlist = 2 ** max(0, round(math.log2(max(rows, 1) / IVF_ROWS_PER_LIST)))
    return IndexSpec("ivf", nlist=nlist, nprobe=min(IVF_NPROBE, nlist))


def create(spec: IndexSpec, vectors: np.ndarray) -> faiss.Index:
    """An inner-product index holding `vectors` (unit rows), able to `reconstruct_batch` them exactly."""
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    if matrix.ndim != 2:
        raise ValueError(f"vectors must be a (rows, dimension) matrix, got shape {matrix.shape}")
    dimension = int(matrix.shape[1])
    if spec.kind == "flat":
        index: faiss.Index = faiss.IndexFlatIP(dimension)
    elif spec.kind == "hnsw":
        graph = faiss.IndexHNSWFlat(dimension, spec.m, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = spec.ef_construction
        graph.hnsw.efSearch = spec.ef_search
        index = graph
    else:
        # The factory's index owns its quantizer (one made in Python could be freed under it), and it is
        # returned already downcast: downcast_index would give a non-owning view of a temporary.
        lists = faiss.index_factory(dimension, f"IVF{spec.nlist},Flat", faiss.METRIC_INNER_PRODUCT)
        assert isinstance(lists, faiss.IndexIVFFlat)
        lists.cp.niter = 10
        lists.cp.max_points_per_centroid = IVF_TRAIN_ROWS_PER_LIST  # FAISS samples (seeded) down to this
        lists.train(matrix)
        lists.nprobe = spec.nprobe
        index = lists
    index.add(matrix)
    if isinstance(index, faiss.IndexIVFFlat):
        index.make_direct_map()  # row id -> list slot, or reconstruct_batch has nowhere to look
    return index


def describe(index: faiss.Index) -> dict[str, str | int]:
    """Read from the index itself, so a manifest records what was loaded, not what was meant."""
    concrete = faiss.downcast_index(index)  # a view: `index` owns the memory and must outlive it
    if isinstance(concrete, faiss.IndexHNSWFlat):
        # Neighbours per level, cumulative; the bottom level holds 2*M (how IndexHNSWFlat(d, M) sets it).
        bottom = int(faiss.vector_to_array(concrete.hnsw.cum_nneighbor_per_level)[1])
        hnsw = concrete.hnsw
        return {"kind": "hnsw", "m": bottom // 2, "ef_construction": hnsw.efConstruction, "ef_search": hnsw.efSearch}
    if isinstance(concrete, faiss.IndexIVFFlat):
        return {"kind": "ivf", "nlist": int(concrete.nlist), "nprobe": int(concrete.nprobe)}
    if isinstance(concrete, faiss.IndexFlat) and concrete.metric_type == faiss.METRIC_INNER_PRODUCT:
        return {"kind": "flat"}
    raise ValueError(f"not an index this module builds: {type(concrete).__name__}")


def spec_of(index: faiss.Index) -> IndexSpec:
    """The spec a loaded index was built with. efSearch and nprobe are written with the index (and the IVF
    direct map too), so `faiss.read_index` gives back one that searches as built, with nothing to re-apply."""
    found = describe(index)
    if found["kind"] == "hnsw":
        return IndexSpec("hnsw", m=int(found["m"]), ef_construction=int(found["ef_construction"]),
                         ef_search=int(found["ef_search"]))  # fmt: skip
    if found["kind"] == "ivf":
        return IndexSpec("ivf", nlist=int(found["nlist"]), nprobe=int(found["nprobe"]))
    return IndexSpec("flat")
