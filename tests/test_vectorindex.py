"""Choosing the FAISS index by corpus size: the choice, recall against exact search, persistence, k=160.

The approximate kinds are built on 20k rows through explicit specs (below the threshold that would pick
them) so the tests take seconds; HNSW with the shipped parameters, IVF with lists shaped for 20k rows.
No timing: the latency evidence lives in `bench/scale.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import faiss
import numpy as np
import pytest

from bench.scale import DIMENSION, clustered_rows, unit
from qa import vectorindex
from qa.retriever import DENSE_CANDIDATE_ROWS
from qa.vectorindex import (
    CANDIDATE_ROWS,
    EXACT_MAX_ROWS,
    GRAPH_MAX_ROWS,
    IndexSpec,
    choose,
    create,
    describe,
    ivf_spec,
    spec_of,
)

APPROXIMATE = {"hnsw": IndexSpec("hnsw"), "ivf": IndexSpec("ivf", nlist=128, nprobe=16)}


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Builds share the machine with other work; restore the thread count for the tests after these."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(before)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    """20k clustered unit vectors and 100 queries from the same mixture that are not among them."""
    rng = np.random.default_rng(7)
    centres = unit(rng.standard_normal((500, DIMENSION)))
    return clustered_rows(rng, 20_000, centres, 1.0), clustered_rows(rng, 100, centres, 1.0)


@pytest.fixture(scope="module", params=sorted(APPROXIMATE))
def approximate(request: pytest.FixtureRequest, data: tuple[np.ndarray, np.ndarray]) -> faiss.Index:
    before = faiss.omp_get_max_threads()  # module fixtures run outside the autouse one
    faiss.omp_set_num_threads(1)
    try:
        return create(APPROXIMATE[request.param], data[0])
    finally:
        faiss.omp_set_num_threads(before)


def test_candidate_rows_follow_the_retriever() -> None:
    assert CANDIDATE_ROWS == DENSE_CANDIDATE_ROWS


def test_choose_is_exact_up_to_the_threshold_then_hnsw_then_ivf() -> None:
    assert choose(0).kind == "flat"
    assert choose(37).kind == "flat"
    assert choose(EXACT_MAX_ROWS).kind == "flat"
    graph = choose(EXACT_MAX_ROWS + 1)
    assert graph.kind == "hnsw"
    assert graph == choose(GRAPH_MAX_ROWS)
    assert graph.ef_search >= CANDIDATE_ROWS
    assert (graph.m, graph.ef_construction, graph.ef_search) == (
        vectorindex.HNSW_M,
        vectorindex.HNSW_EF_CONSTRUCTION,
        vectorindex.HNSW_EF_SEARCH,
    )
    assert choose(GRAPH_MAX_ROWS + 1).kind == "ivf"
    million = choose(1_000_000)
    assert (million.kind, million.nlist, million.nprobe) == ("ivf", 4096, vectorindex.IVF_NPROBE)
    # Lists keep their size as the corpus grows, so a probe of nprobe lists still holds far more than k rows.
    for rows in (GRAPH_MAX_ROWS + 1, 1_000_000, 10_000_000):
        spec = choose(rows)
        assert 128 <= rows / spec.nlist <= 512
        assert spec.nprobe * rows / spec.nlist >= 20 * CANDIDATE_ROWS
    assert ivf_spec(100).nprobe == ivf_spec(100).nlist == 1  # tiny corpora still give a valid spec


def test_specs_that_would_not_fill_the_candidate_pool_are_refused() -> None:
    with pytest.raises(ValueError, match="efSearch"):
        IndexSpec("hnsw", ef_search=CANDIDATE_ROWS - 1)
    with pytest.raises(ValueError, match="nprobe"):
        IndexSpec("ivf", nlist=16, nprobe=32)
    with pytest.raises(ValueError, match="unknown"):
        IndexSpec("pq")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="negative"):
        choose(-1)


def test_recall_at_10_against_exact(data: tuple[np.ndarray, np.ndarray], approximate: faiss.Index) -> None:
    vectors, queries = data
    exact = create(IndexSpec("flat"), vectors)
    _, truth = exact.search(queries, 10)
    _, found = approximate.search(queries, 10)
    recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found.tolist(), truth.tolist(), strict=True)])
    assert recall >= 0.98


def test_reconstruct_batch_returns_the_added_vectors(
    data: tuple[np.ndarray, np.ndarray], approximate: faiss.Index
) -> None:
    vectors = data[0]
    rows = np.array([0, 1, 4_321, 19_999], dtype=np.int64)
    assert np.array_equal(approximate.reconstruct_batch(rows), vectors[rows])
    flat = create(IndexSpec("flat"), vectors[:50])
    assert np.array_equal(flat.reconstruct_batch(rows[:2]), vectors[:2])


def test_k_of_160_returns_160_distinct_valid_rows(
    data: tuple[np.ndarray, np.ndarray], approximate: faiss.Index
) -> None:
    distances, ids = approximate.search(data[1][:5], CANDIDATE_ROWS)
    assert ids.shape == (5, CANDIDATE_ROWS)
    assert ((ids >= 0) & (ids < approximate.ntotal)).all()
    assert all(len(set(row)) == CANDIDATE_ROWS for row in ids.tolist())
    assert (np.diff(distances, axis=1) <= 1e-6).all()  # best first, as the retriever assumes


@pytest.mark.parametrize(
    ("spec", "described"),
    [
        (
            IndexSpec("hnsw", m=12, ef_construction=32, ef_search=222),
            {"m": 12, "ef_construction": 32, "ef_search": 222},
        ),
        (IndexSpec("ivf", nlist=32, nprobe=7), {"nlist": 32, "nprobe": 7}),
        (IndexSpec("flat"), {}),
    ],
)
def test_write_read_round_trip_keeps_kind_and_search_setting(
    tmp_path: Path, data: tuple[np.ndarray, np.ndarray], spec: IndexSpec, described: dict[str, int]
) -> None:
    vectors, queries = data[0][:3_000], data[1]
    built = create(spec, vectors)
    assert describe(built) == {"kind": spec.kind, **described}
    faiss.write_index(built, str(tmp_path / "vectors.faiss"))
    loaded = faiss.read_index(str(tmp_path / "vectors.faiss"))
    # efSearch, nprobe and the IVF direct map are written with the index: nothing to re-apply after loading.
    assert describe(loaded) == describe(built)
    assert spec_of(loaded) == spec
    assert loaded.ntotal == 3_000
    assert np.array_equal(loaded.search(queries, 10)[1], built.search(queries, 10)[1])
    assert np.array_equal(loaded.reconstruct_batch(np.array([0, 2_999])), vectors[[0, 2_999]])


def test_describe_refuses_an_index_it_did_not_build() -> None:
    with pytest.raises(ValueError, match="IndexFlatL2"):
        describe(faiss.IndexFlatL2(DIMENSION))
