"""Corpus parsing: the seed file, JSONL, Markdown, CSV/TSV, folders, and every problem reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.errors import CorpusError
from qa.loaders import fingerprint, load_corpus
from qa.records import Entry
from tests.conftest import SEED_CORPUS

SEED_FILE = SEED_CORPUS / "infant_seizures_faq.txt"


@pytest.fixture(scope="module")
def seed() -> list[Entry]:
    return load_corpus([SEED_CORPUS])


def test_seed_has_twelve_entries_with_unique_ids(seed: list[Entry]) -> None:
    assert len(seed) == 12
    assert len({entry.id for entry in seed}) == 12


def test_alternate_question_joins_its_entry(seed: list[Entry]) -> None:
    multi = [entry for entry in seed if len(entry.questions) > 1]
    assert len(multi) == 1
    assert multi[0].questions == (
        "How can you tell if an infant is having a seizure?",
        "What are the symptoms of a seizure in a child?",
    )


def test_repeated_question_collapses(seed: list[Entry]) -> None:
    assert seed[0].questions == ("Is baby face twitching normal?",)


def test_answers_are_verbatim_with_their_line_spans(seed: list[Entry]) -> None:
    lines = SEED_FILE.read_text(encoding="utf-8").splitlines()
    for entry in seed:
        first, last = entry.lines
        assert entry.answer == "\n".join(lines[first - 1 : last])
        assert entry.source == "infant_seizures_faq.txt"
    by_question = {entry.question: entry for entry in seed}
    assert by_question["What do febrile seizures look like?"].lines == (35, 35)
    assert seed[0].answer.startswith("Thanks! A: It is completely normal")
    assert "baby’s" in seed[0].answer  # curly apostrophe kept
    signs = by_question["What are the signs to look for in neurological symptoms in infants?"]
    assert signs.lines == (43, 51)
    assert "\n\n  • Fussiness.\n" in signs.answer
    listed = by_question["How can you tell if an infant is having a seizure?"]
    assert listed.answer.startswith("  1. Staring.\n  2. Jerking")


def test_jsonl_keeps_ids_and_fields(tmp_path: Path) -> None:
    (tmp_path / "more.jsonl").write_text(
        '{"id": "fs-1", "question": "What is a febrile seizure?", "alt_questions": ["Fever fit?", "Fever fit?"],'
        ' "answer": "A fit caused by fever.", "url": "https://example.org/fs", "source": "NHS"}\n'
        "\n"
        '{"question": "Is it serious?", "answer": "  Usually not.  "}\n'
    )
    first, second = load_corpus([tmp_path])
    assert first.id == "fs-1"
    assert first.questions == ("What is a febrile seizure?", "Fever fit?")
    assert first.url == "https://example.org/fs"
    assert first.publisher == "NHS"
    assert first.lines == (1, 1)
    assert second.id == "is-it-serious"
    assert second.answer == "  Usually not.  "
    assert second.lines == (3, 3)


def test_seed_marks_only_the_face_twitching_answer_reassuring(seed: list[Entry]) -> None:
    assert [entry.id for entry in seed if entry.reassuring] == ["is-baby-face-twitching-normal"]
    assert seed[0].lines == (7, 7)  # the answer itself: the Tags line (5) is not part of it


def test_tags_line_marks_the_entry_and_is_not_part_of_the_answer(tmp_path: Path) -> None:
    (tmp_path / "faq.txt").write_text(
        "Is it normal?\n\nIs that usual?\n\nTags: Reassuring\n\nYes, quite normal.\n\nMore text.\n\n"
        "Is it bad?\n\nSee a doctor.\n"
    )
    calm, other = load_corpus([tmp_path])
    assert calm.questions == ("Is it normal?", "Is that usual?")
    assert calm.reassuring is True
    assert calm.answer == "Yes, quite normal.\n\nMore text."
    assert calm.lines == (7, 9)
    assert other.reassuring is False


def test_jsonl_reassuring_is_an_optional_boolean(tmp_path: Path) -> None:
    (tmp_path / "f.jsonl").write_text(
        '{"question": "Normal?", "answer": "Yes.", "reassuring": true}\n{"question": "Bad?", "answer": "Maybe."}\n'
    )
    assert [entry.reassuring for entry in load_corpus([tmp_path])] == [True, False]


def test_several_paths_and_folders(tmp_path: Path) -> None:
    sub = tmp_path / "extra"
    sub.mkdir()
    (sub / "a.txt").write_text("Why?\n\nBecause.\n")
    (sub / "notes.md").write_text("## Is this a note?\n\nYes.\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("hidden folders are not part of the corpus")
    (tmp_path / ".notes.swp").write_text("nor are hidden files")
    entries = load_corpus([SEED_FILE, tmp_path])
    assert len(entries) == 14
    assert [entry.source for entry in entries[-2:]] == ["extra/a.txt", "extra/notes.md"]


def test_ids_do_not_depend_on_other_entries(tmp_path: Path, seed: list[Entry]) -> None:
    text = SEED_FILE.read_text(encoding="utf-8")
    changed = tmp_path / "faq.txt"
    changed.write_text("A new first question?\n\nA new answer.\n\n" + text.replace("(tracking)", "(following)"))
    ids = {entry.id for entry in load_corpus([changed])}
    assert {entry.id for entry in seed} <= ids


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.txt", "Some answer, no question.\n\nWhy?\n\nBecause.\n", "bad.txt:1: answer text before any question"),
        ("bad.txt", "Why?\n\nBecause.\n\nAnd the last one?\n", "bad.txt:5: question 'And the last one?' has no"),
        ("bad.txt", "\n\n", "bad.txt: no entries found"),
        ("bad.jsonl", '{"question": "Q?", "answer": "A."}\n{"question": "Q2?"\n', "bad.jsonl:2: not valid JSON"),
        ("bad.jsonl", '{"question": "Q?"}\n', "bad.jsonl:1: field 'answer': Field required"),
        ("bad.jsonl", '{"question": "  ", "answer": "A"}\n', "bad.jsonl:1: field 'question'"),
        (
            "bad.jsonl",
            '{"id": "x", "question": "Q?", "answer": "A"}\n{"id": "x", "question": "R?", "answer": "B"}\n',
            "bad.jsonl:2: duplicate entry id 'x'",
        ),
        (
            "bad.jsonl",
            '{"question": "Q?", "answer": "A"}\n{"question": "R?", "answer": "B", "reassuring": "yes"}\n',
            "bad.jsonl:2: field 'reassuring'",
        ),
        ("bad.jsonl", '{"question": "Q?", "answer": "A", "reassuring": 1}\n', "bad.jsonl:1: field 'reassuring'"),
        ("bad.txt", "Why?\n\nTags: reasuring\n\nBecause.\n", "bad.txt:3: unknown tag 'reasuring'"),
        ("bad.txt", "Why?\n\nTags:\n\nBecause.\n", "bad.txt:3: unknown tag ''"),
        ("bad.txt", "Tags: reassuring\n\nWhy?\n\nBecause.\n", "bad.txt:1: a Tags line belongs directly after"),
        ("bad.txt", "Why?\n\nBecause.\n\nTags: reassuring\n", "bad.txt:5: a Tags line belongs directly after"),
        ("bad.txt", "Why?\n\nTags: reassuring\n\nTags: reassuring\n\nBecause.\n", "bad.txt:5: a Tags line"),
        ("bad.txt", "Why?\n\nTags: reassuring\n\nHow come?\n\nBecause.\n", "bad.txt:5: question after a Tags"),
    ],
)
def test_malformed_input_names_file_and_line(tmp_path: Path, name: str, content: str, message: str) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(CorpusError, match=message.replace("?", r"\?").replace("(", r"\(")):
        load_corpus([tmp_path / name])


def test_unreadable_and_unsupported_files(tmp_path: Path) -> None:
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9?\n\nYes.\n".encode("latin-1"))
    with pytest.raises(CorpusError, match=r"latin1\.txt: not UTF-8"):
        load_corpus([tmp_path / "latin1.txt"])
    (tmp_path / "x.pdf").write_text("x")
    with pytest.raises(CorpusError, match=r"unsupported corpus format '\.pdf'"):
        load_corpus([tmp_path / "x.pdf"])
    with pytest.raises(CorpusError, match="no such file or folder"):
        load_corpus([tmp_path / "missing"])


def test_fingerprint_follows_content(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_text("Why?\n\nBecause.\n")
    before = fingerprint([path])
    assert fingerprint([path]) == before
    path.write_text("Why?\n\nBecause!\n")
    assert fingerprint([path]) != before


def test_questions_in_other_scripts_get_distinct_stable_ids(tmp_path: Path) -> None:
    path = tmp_path / "ar.txt"
    path.write_text("ما هي التشنجات؟?\n\nجواب.\n\nلماذا يحدث ذلك؟?\n\nجواب آخر.\n", encoding="utf-8")
    first, second = load_corpus([path])
    assert first.id != second.id
    assert first.id.startswith("entry-")
    assert [e.id for e in load_corpus([path])] == [first.id, second.id]

