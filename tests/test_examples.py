"""Example questions: read from the corpus folder, kept in the build, compared with each message."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qa import features
from qa.config import PROJECT_ROOT
from qa.errors import IndexMismatchError
from qa.evaluate import load_labelled
from qa.index import build_index, load_index, save_index
from qa.loaders import check_corpus
from qa.loaders.examples import parse
from qa.records import Entry, Example
from qa.retriever import ExampleBank
from tests.fakes import HashingEmbedder

EVAL = PROJECT_ROOT / "eval" / "retrieval"
SEED_EXAMPLES = PROJECT_ROOT / "corpus" / "infant_seizures_faq.examples.jsonl"

FAQ = """Why is the sky blue?

Light scatters in the air.

How do fish breathe?

Through their gills.
"""


def _corpus(tmp_path: Path, examples: str) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "faq.txt").write_text(FAQ)
    (folder / "faq.examples.jsonl").write_text(examples)
    return folder


def test_examples_are_read_beside_the_entries_with_their_set(tmp_path: Path) -> None:
    lines = [
        {"question": "y is sky blu", "expected": ["why-is-the-sky-blue"]},
        {"question": "fish lungs??", "expected": ["how-do-fish-breathe"]},
        {"question": "what do fish eat", "expected": "none", "set": "near-misses"},
    ]
    folder = _corpus(tmp_path, "".join(json.dumps(line) + "\n" for line in lines))
    check = check_corpus([folder])
    assert [e.id for e in check.entries] == ["why-is-the-sky-blue", "how-do-fish-breathe"]
    assert [(e.question, e.entries, e.set, e.line) for e in check.examples] == [
        ("y is sky blu", ("why-is-the-sky-blue",), "faq", 1),
        ("fish lungs??", ("how-do-fish-breathe",), "faq", 2),
        ("what do fish eat", (), "near-misses", 3),
    ]
    assert check.problems == ()


def test_bad_example_lines_name_their_line_and_unknown_entries_only_warn(tmp_path: Path) -> None:
    body = '{"question": "ok", "expected": ["why-is-the-sky-blue"]}\n{broken\n{"question": "x", "expected": 3}\n'
    body += '{"question": "gone", "expected": ["an-entry-since-removed"]}\n'
    check = check_corpus([_corpus(tmp_path, body)])
    found = [(p.line, p.severity, p.message.split(" (")[0]) for p in check.problems]
    assert found == [
        (2, "error", "not valid JSON"),
        (3, "error", '"expected" must be a list of entry ids or "none"'),
        (4, "warning", "example names an-entry-since-removed, not an entry of the corpus; it is skipped"),
        (7, "warning", "entry how-do-fish-breathe has no example questions while 1 entries do; until it has some it "
         "is found mostly by its own questions: add a few to an .examples.jsonl file"),
    ]
    assert [e.question for e in check.examples] == ["ok"]


def test_parse_refuses_a_line_without_a_question() -> None:
    examples, problems = parse('{"expected": "none"}\n', "a.examples.jsonl")
    assert examples == [] and [p.line for p in problems] == [1]


def _entries() -> list[Entry]:
    return [
        Entry(id="sky", questions=("Why is the sky blue?",), answer="Light scatters.", source="f", lines=(1, 1)),
        Entry(id="fish", questions=("How do fish breathe?",), answer="Gills.", source="f", lines=(3, 3)),
    ]


def _example(question: str, entries: tuple[str, ...], group: str = "a") -> Example:
    return Example(question=question, entries=entries, set=group, source="f.examples.jsonl", line=1)


def test_the_bank_scores_each_entry_by_its_nearest_example_and_leaves_sets_out() -> None:
    embedder = HashingEmbedder()
    examples = [
        _example("colour of the heavens", ("sky",)),
        _example("gills underwater", ("fish",), "b"),
        _example("what do fish eat", ()),
    ]
    build = build_index(_entries(), embedder, "fp", examples)
    vectors = embedder.encode(["colour of the heavens", "what do fish eat"])
    per_entry, offtopic, share = ExampleBank(build).closeness(vectors)
    assert per_entry[0, 0] == pytest.approx(1.0, abs=1e-4) and per_entry[0, 1] < 0.5
    assert offtopic[1] == pytest.approx(1.0, abs=1e-4)
    assert share == pytest.approx(1 / 3)  # all three examples are among the ten nearest; one is off-topic
    per_entry, _, _ = ExampleBank(build, frozenset({"a"})).closeness(vectors)
    assert per_entry[0, 0] == 0.0  # the sky's only example was in set a
    per_entry, offtopic, share = ExampleBank(build, questions=frozenset({"what do fish eat"})).closeness(vectors)
    assert offtopic[1] == 0.0 and share == 0.0
    assert ExampleBank(build, frozenset({"a"})).has_examples.tolist() == [0.0, 1.0]
    assert ExampleBank(build, entries=frozenset({"fish"})).has_examples.tolist() == [1.0, 0.0]  # fish as if new


def test_example_margin_is_the_lead_over_other_entries_and_over_off_topic_examples() -> None:
    margin = features._example_margin(np.array([0.9, 0.6, 0.2], dtype=np.float32), offtopic=0.7)
    assert margin.tolist() == pytest.approx([0.2, -0.3, -0.7])


def test_examples_survive_a_save_and_load_and_a_damaged_file_is_named(tmp_path: Path) -> None:
    embedder = HashingEmbedder()
    build = build_index(_entries(), embedder, "fp", [_example("gills underwater", ("fish",))], str.upper)
    folder = save_index(build, tmp_path / "index")
    loaded = load_index(tmp_path / "index", embedder)
    assert loaded.manifest.examples == 1 and loaded.examples == build.examples
    assert np.allclose(loaded.example_vectors, embedder.encode(["GILLS UNDERWATER"]))  # embedded as prepared
    (folder / "examples.npy").write_bytes(b"not numpy")
    with pytest.raises(IndexMismatchError, match=r"examples\.npy"):
        load_index(tmp_path / "index", embedder)


def test_the_seed_examples_are_the_training_sets_and_no_frozen_set() -> None:
    """`scripts/fit_ranker.py` writes them from the sets it fits on; a set measured once must never leak in.

    (A few questions of the older frozen sets repeat one of an earlier training set word for word; the
    bench and `qa eval --unseen` set such examples aside when they judge a frozen set.)
    """
    rows = [json.loads(line) for line in SEED_EXAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]
    sets = sorted({row["set"] for row in rows})
    for name in sets:
        written = [(r["question"], r["expected"]) for r in rows if r["set"] == name]
        labelled = [(i.question, list(i.expected) or "none") for i in load_labelled(EVAL / f"{name}.jsonl")]
        assert written == labelled, name
    frozen = {path.stem for path in EVAL.glob("*_frozen.jsonl")}
    assert frozen and not frozen & set(sets)


def test_an_example_marked_none_that_the_corpus_now_answers_is_a_warning(tmp_path: Path) -> None:
    """New content can answer what an example called unanswered; the check says which entry, to relabel it."""
    body = '{"question": "how do fish breathe", "expected": "none"}\n'
    check = check_corpus([_corpus(tmp_path, body)])
    assert [(p.severity, p.message.split(";")[0]) for p in check.problems] == [
        ("warning", 'example marked "none" asks the question of entry how-do-fish-breathe')
    ]
