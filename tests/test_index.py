"""The index folder: build, save, load, manifest checks, and failed builds leaving the old one serving."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qa.builder import build
from qa.builds import current_build_dir
from qa.errors import CorpusError, IndexMismatchError, IndexNotFoundError
from qa.index import FORMAT_VERSION, RowKind, joint_text, load_index, read_manifest
from qa.loaders import fingerprint
from tests.conftest import SEED_CORPUS
from tests.fakes import HashingEmbedder


def test_build_save_load_round_trip(tmp_path: Path, embedder) -> None:
    report = build([SEED_CORPUS], tmp_path, embedder)
    manifest = read_manifest(tmp_path)
    assert manifest == report.manifest
    assert manifest.format_version == FORMAT_VERSION
    assert manifest.model_id == "sentence-transformers/all-MiniLM-L6-v2"
    assert manifest.dimension == 384
    assert manifest.entries == 12
    assert manifest.rows == 37  # 13 questions + 12 answers + 12 joint texts
    assert manifest.corpus_fingerprint == fingerprint([SEED_CORPUS])
    assert manifest.built_at
    assert manifest.vector_index == {"kind": "flat"}  # a small corpus is searched exactly
    loaded = load_index(tmp_path, embedder)
    first_two = [e.id for e in loaded.entries][:2]
    assert first_two == ["is-baby-face-twitching-normal", "do-babies-with-infantile-spasms-smile"]
    assert [e.reassuring for e in loaded.entries][:2] == [True, False]  # the maintainer's mark survives the build
    assert loaded.vectors.ntotal == 37
    vectors = loaded.vectors.reconstruct_n(0, loaded.vectors.ntotal)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    # The stored answer vector is the real embedding of the verbatim answer.
    first = loaded.row_entry == 0
    answer_row = int(np.flatnonzero(first & (loaded.row_kind == RowKind.ANSWER))[0])
    assert float(vectors[answer_row] @ embedder.encode([loaded.entries[0].answer])[0]) > 0.999
    joint_row = int(np.flatnonzero(first & (loaded.row_kind == RowKind.JOINT))[0])
    assert float(vectors[joint_row] @ embedder.encode([joint_text(loaded.entries[0])])[0]) > 0.999


def test_a_build_from_before_the_reassuring_field_still_loads(tmp_path: Path) -> None:
    """No format bump: an older build's entries had no mark, and load as not reassuring (False).

    `qa serve` rebuilds anyway when the corpus changed, which adding a Tags line does.
    """
    embedder = HashingEmbedder()
    build([SEED_CORPUS], tmp_path, embedder)
    entries_file = current_build_dir(tmp_path) / "entries.jsonl"
    rows = [json.loads(line) for line in entries_file.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["reassuring"] is True
    old_rows = [{key: value for key, value in row.items() if key != "reassuring"} for row in rows]
    entries_file.write_text("".join(json.dumps(row) + "\n" for row in old_rows), encoding="utf-8")
    loaded = load_index(tmp_path, embedder)
    assert len(loaded.entries) == 12 and not any(entry.reassuring for entry in loaded.entries)


def test_a_large_corpus_gets_a_graph_index_recorded_in_the_manifest(tmp_path: Path) -> None:
    """Past `EXACT_MAX_ROWS` rows the build is HNSW; served from disk it finds what exact search finds."""
    from qa import vectorindex

    count = vectorindex.EXACT_MAX_ROWS // 3 + 10  # three rows an entry
    corpus = tmp_path / "big.jsonl"
    lines = [{"id": f"e{n}", "question": f"question {n} on topic {n % 97}?", "answer": f"a{n}"} for n in range(count)]
    corpus.write_text("".join(json.dumps(line) + "\n" for line in lines))
    embedder = HashingEmbedder()
    report = build([corpus], tmp_path / "index", embedder)
    assert report.manifest.vector_index["kind"] == "hnsw"
    assert report.manifest.vector_index["ef_search"] == vectorindex.HNSW_EF_SEARCH
    loaded = load_index(tmp_path / "index", embedder)
    assert vectorindex.describe(loaded.vectors) == report.manifest.vector_index
    queries = embedder.encode([f"question {n} on topic {n % 97}?" for n in range(0, count, 500)])
    scores, _ = loaded.vectors.search(queries, 1)
    exact = loaded.vectors.reconstruct_n(0, loaded.vectors.ntotal) @ queries.T
    assert (np.abs(scores[:, 0] - exact.max(axis=0)) < 1e-5).mean() >= 0.9  # the best score found (ties are equal)


def test_missing_index_says_to_run_qa_index(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="run `qa index`"):
        load_index(tmp_path / "nothing", HashingEmbedder())


def test_model_mismatch_is_a_clear_error(tmp_path: Path) -> None:
    build([SEED_CORPUS], tmp_path, HashingEmbedder(model_id="test/a"))
    with pytest.raises(IndexMismatchError, match=r"built with model 'test/a'.*current model is 'test/b'.*qa index"):
        load_index(tmp_path, HashingEmbedder(model_id="test/b"))


def test_format_mismatch_is_a_clear_error(tmp_path: Path) -> None:
    build([SEED_CORPUS], tmp_path, HashingEmbedder())
    manifest_file = current_build_dir(tmp_path) / "manifest.json"
    raw = json.loads(manifest_file.read_text())
    raw["format_version"] = FORMAT_VERSION + 1
    manifest_file.write_text(json.dumps(raw))
    with pytest.raises(IndexMismatchError, match=r"format version.*run `qa index`"):
        load_index(tmp_path, HashingEmbedder())


def test_failed_build_leaves_previous_build_serving(tmp_path: Path) -> None:
    embedder = HashingEmbedder()
    build([SEED_CORPUS], tmp_path, embedder)
    before = read_manifest(tmp_path)
    bad = tmp_path / "bad.txt"
    bad.write_text("answer before question\n")
    with pytest.raises(CorpusError):
        build([SEED_CORPUS, bad], tmp_path, embedder)
    assert read_manifest(tmp_path) == before
    assert load_index(tmp_path, embedder).manifest.entries == 12
    assert not [p for p in (tmp_path / "builds").iterdir() if p.name.startswith(".staging")]


def test_rebuilds_swap_current_and_keep_a_few(tmp_path: Path) -> None:
    embedder = HashingEmbedder()
    folders = [build([SEED_CORPUS], tmp_path, embedder).folder for _ in range(5)]
    assert current_build_dir(tmp_path) == folders[-1]
    assert len(list((tmp_path / "builds").iterdir())) == 3


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda folder, root: (folder / "manifest.json").write_text("[]"), "manifest .* is invalid"),
        (lambda folder, root: np.save(folder / "rows.npy", np.zeros((1, 25))), "inconsistent"),
        (lambda folder, root: (root / "CURRENT").write_bytes(b"\xff\xfe"), "unreadable"),
        (lambda folder, root: (folder / "vectors.faiss").write_bytes(b"garbage"), "damaged"),
    ],
)
def test_a_damaged_build_is_a_clear_error(tmp_path: Path, damage, message: str) -> None:
    embedder = HashingEmbedder()
    build([SEED_CORPUS], tmp_path, embedder)
    damage(current_build_dir(tmp_path), tmp_path)
    with pytest.raises((IndexMismatchError, IndexNotFoundError), match=message):
        load_index(tmp_path, embedder)


def _build_repeatedly(index_dir: str) -> None:
    for _ in range(3):
        build([SEED_CORPUS], Path(index_dir), HashingEmbedder())


def test_concurrent_builders_never_break_the_served_build(tmp_path: Path) -> None:
    """`qa index` while `qa serve` builds: writers queue, readers always find a whole build."""
    import multiprocessing

    embedder = HashingEmbedder()
    build([SEED_CORPUS], tmp_path, embedder)
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_build_repeatedly, args=(str(tmp_path),)) for _ in range(3)]
    for writer in writers:
        writer.start()
    loads = 0
    while any(writer.is_alive() for writer in writers):
        assert load_index(tmp_path, embedder).manifest.entries == 12
        loads += 1
    for writer in writers:
        writer.join()
        assert writer.exitcode == 0
    assert loads > 0
    assert load_index(tmp_path, embedder).manifest.entries == 12
    assert len([p for p in (tmp_path / "builds").iterdir() if not p.name.startswith(".")]) == 3
