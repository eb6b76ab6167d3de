"""Markdown, CSV and TSV corpora, and every corpus problem reported at once, with its file and line."""

from __future__ import annotations

import random
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest

from qa.errors import CorpusError
from qa.loaders import LONG_ANSWER_CHARS, MAX_LISTED, Problem, check_corpus, fingerprint, load_corpus
from qa.loaders.check import check_entries
from qa.records import Entry
from tests.conftest import SEED_CORPUS

SEED_FILE = SEED_CORPUS / "infant_seizures_faq.txt"



MARKDOWN = """---
url: https://example.org/fs
source: NHS
---
# Febrile seizures

Intro text: not part of any entry.

## What is a febrile seizure?

## What is a fever fit?
Tags: reassuring

A fit caused by a **fever**.

## Background
It stays part of the answer.

## Is it serious?
  1. Usually not.
  2. See a doctor.
"""
CSV = (
    "question,alt_questions,answer,url,source,reassuring\n"
    'What is a febrile seizure?,What is a fever fit?,"A fit caused by a **fever**.\n\n## Background\n'
    'It stays part of the answer.",https://example.org/fs,NHS,true\n'
    'Is it serious?,,"  1. Usually not.\n  2. See a doctor.",https://example.org/fs,NHS,\n'
)
TSV = (
    "question\talt_questions\tanswer\turl\tsource\treassuring\n"
    'What is a febrile seizure?\tWhat is a fever fit?\t"A fit caused by a **fever**.\n\n## Background\n'
    'It stays part of the answer."\thttps://example.org/fs\tNHS\tTRUE\n'
    'Is it serious?\t\t"  1. Usually not.\n  2. See a doctor."\thttps://example.org/fs\tNHS\tfalse\n'
)


def _write(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(exist_ok=True)
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def _fields(entry: Entry) -> tuple[object, ...]:
    return (entry.id, entry.questions, entry.answer, entry.url, entry.publisher, entry.reassuring)


def test_markdown_csv_and_tsv_give_the_same_entries(tmp_path: Path) -> None:
    parsed = {
        name: load_corpus([_write(tmp_path / name, {f"faq.{name}": text})])
        for name, text in (("md", MARKDOWN), ("csv", CSV), ("tsv", TSV))
    }
    assert [_fields(entry) for entry in parsed["md"]] == [_fields(entry) for entry in parsed["csv"]]
    assert [_fields(entry) for entry in parsed["md"]] == [_fields(entry) for entry in parsed["tsv"]]
    first, second = parsed["md"]
    assert first.questions == ("What is a febrile seizure?", "What is a fever fit?")
    assert (first.publisher, first.reassuring, second.reassuring) == ("NHS", True, False)
    assert first.url == "https://example.org/fs"
    assert second.answer == "  1. Usually not.\n  2. See a doctor."


def test_markdown_answers_are_verbatim_with_their_line_spans(tmp_path: Path) -> None:
    text = MARKDOWN + "\n```\n## Inside a code block?\n```\n\n# Another section\n\nNot an entry.\n\n## Why?\nBecause.\n"
    first, second, third = load_corpus([_write(tmp_path, {"faq.markdown": text})])
    lines = text.splitlines()
    for entry in (first, second, third):
        assert entry.answer == "\n".join(lines[entry.lines[0] - 1 : entry.lines[1]])
        assert entry.source == "faq.markdown"
    assert first.lines == (14, 17)
    assert first.answer == "A fit caused by a **fever**.\n\n## Background\nIt stays part of the answer."
    assert second.lines == (20, 25)  # the fenced "## ...?" line is answer text; the "# " title ends the answer
    assert second.answer.endswith("```\n## Inside a code block?\n```")
    assert (third.questions, third.answer, third.lines) == (("Why?",), "Because.", (32, 32))
    plain = load_corpus([_write(tmp_path / "plain", {"f.md": "## Why?\nBecause.\n"})])[0]
    assert (plain.url, plain.publisher, plain.lines) == (None, None, (2, 2))


def test_csv_line_spans_are_physical_lines(tmp_path: Path) -> None:
    text = (
        "id,question,answer\n"
        "\n"
        'a,"First?","Line one,\nline two\n\nline four"\n'
        'b,Second?,"Says ""hi""."\n'
        "\n"
        'c,"Third\nquestion?",Short.\n'
    )
    first, second, third = load_corpus([_write(tmp_path, {"f.csv": text})])
    assert (first.id, first.lines, first.answer) == ("a", (3, 6), "Line one,\nline two\n\nline four")
    assert (second.lines, second.answer) == ((7, 7), 'Says "hi".')
    assert (third.questions, third.lines) == (("Third\nquestion?",), (9, 10))
    bad = text + 'd,Fourth?,"never closed\n'
    check = check_corpus([_write(tmp_path / "bad", {"f.csv": bad})])
    assert [(p.source, p.line) for p in check.errors] == [("f.csv", 11)]
    assert "malformed CSV row" in check.errors[0].message


def _where(check_paths: list[Path]) -> list[tuple[str, int | None, str]]:
    return [(p.source, p.line, p.message) for p in check_corpus(check_paths).errors]


@pytest.mark.parametrize(
    ("files", "source", "line", "message"),
    [
        ({"f.csv": "question,answer\nWhy?,Because.\nHow?,  \n"}, "f.csv", 3, "field 'answer': must not be empty"),
        ({"f.tsv": "question\tanswer\n\tOrphan answer.\n"}, "f.tsv", 2, "field 'question': must not be empty"),
        ({"f.jsonl": '{"question": "Q?", "answer": " "}\n'}, "f.jsonl", 1, "field 'answer': must not be empty"),
        ({"f.md": "## Why?\nBecause.\n\n## And then?\n\n"}, "f.md", 4, "question 'And then?' has no answer"),
        ({"f.md": "## Why?\n\n# Title\n\n## How?\nLike so.\n"}, "f.md", 1, "question 'Why?' has no answer"),
        ({"f.txt": "Why?\n"}, "f.txt", 1, "question 'Why?' has no answer"),
        ({"f.jsonl": '{"question": "Q?", "answer": "A"}\n{"question": \n'}, "f.jsonl", 2, "not valid JSON"),
        ({"f.jsonl": '{"question": ["Q?"], "answer": "A"}\n'}, "f.jsonl", 1, "field 'question'"),
        ({"f.csv": "question,answer,reassuring\nQ?,A,yes\n"}, "f.csv", 2, "field 'reassuring': expected true"),
        ({"f.csv": "question,answer\nQ?,A,extra\n"}, "f.csv", 2, "row has 3 fields but the header has 2"),
        ({"f.csv": 'question,answer\nQ?,"A"B\n'}, "f.csv", 2, "malformed CSV row"),
        ({"f.csv": "question,answr\nQ?,A\n"}, "f.csv", 1, "unknown column 'answr' (column 2); allowed columns: q"),
        ({"f.csv": "question,answr\nQ?,A\n"}, "f.csv", 1, "missing required column 'answer'"),
        ({"f.csv": "question,answer,answer\nQ?,A,B\n"}, "f.csv", 1, "column 'answer' appears more than once"),
        ({"f.csv": "What is it?,It is.\n"}, "f.csv", 1, "the first row must be a header"),
        ({"f.md": "---\nurl: x\nauthor: me\n---\n## Q?\nA.\n"}, "f.md", 3, "unknown front-matter key 'author'"),
        ({"f.md": "---\nurl https://x\n---\n## Q?\nA.\n"}, "f.md", 2, "is not 'key: value'"),
        ({"f.md": "---\nurl: x\n## Q?\nA.\n"}, "f.md", 1, "front matter opened with '---' is never closed"),
        ({"f.md": "## Q?\nTags: calm\n\nA.\n"}, "f.md", 2, "unknown tag 'calm'"),
        ({"f.md": "## Q?\nA.\nTags: reassuring\n"}, "f.md", 3, "a Tags line belongs directly after"),
        ({"f.md": "## Q?\nTags: reassuring\n## R?\nA.\n"}, "f.md", 3, "question after a Tags line"),
        ({"f.md": "# Only a title\n\nSome text.\n"}, "f.md", None, "no entries found"),
        ({"f.csv": ""}, "f.csv", None, "no entries found (expected a header row"),
        ({"f.tsv": "question\tanswer\n"}, "f.tsv", None, "no entries found"),
        ({"f.jsonl": "\n"}, "f.jsonl", None, "no entries found"),
        ({"f.txt": "Why?\n\nBecause.\n", "notes.pdf": "x"}, "notes.pdf", None, "unsupported corpus format '.pdf'"),
        ({"f.txt": "Why?\n\nBecause.\n", "README": "x"}, "README", None, "unsupported corpus format '(no suffix)'"),
        ({"f.md": "## Caf\xe9?\n".encode("latin-1")}, "f.md", None, "not UTF-8 text (invalid continuation byte"),
        ({"f.md": b"## Q?\nA.\n\n## R?\n\xff\n"}, "f.md", None, "at byte 16, line 5)"),
    ],
)
def test_every_error_names_its_file_and_line(
    tmp_path: Path, files: dict[str, str | bytes], source: str, line: int | None, message: str
) -> None:
    found = _where([_write(tmp_path, files)])
    assert any((where, at) == (source, line) and message in text for where, at, text in found), found
    with pytest.raises(CorpusError, match=re.escape(message)):
        load_corpus([tmp_path])


def test_duplicate_questions_and_ids_across_files_name_both_places(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "a.txt": "Is it serious?\n\nUsually not.\n",
            "b.md": "## Is it  SERIOUS ?\n\nSee a doctor.\n",
            "c.jsonl": '{"id": "is-it-serious", "question": "Something else?", "answer": "B"}\n',
        },
    )
    found = _where([tmp_path])
    assert (
        "b.md",
        3,
        "duplicate question 'Is it  SERIOUS ?': the entry at a.txt:3 asks it too ('Is it serious?'); "
        "a question must lead to one answer: merge the entries or reword one",
    ) in found
    assert any(
        (where, at) == ("c.jsonl", 1) and "duplicate entry id 'is-it-serious' (first at a.txt:3)" in text
        for where, at, text in found
    )
    assert len(found) == 3  # b.md's derived id is is-it-serious too


def test_alternates_of_one_entry_may_repeat_a_question(tmp_path: Path) -> None:
    entries = load_corpus([_write(tmp_path, {"f.md": "## Is it serious?\n## is it serious\u2026?\n\nNo.\n"})])
    assert entries[0].questions == ("Is it serious?", "is it serious\u2026?")
    assert check_corpus([tmp_path]).problems == ()


def test_several_problems_in_one_file_are_all_reported(tmp_path: Path) -> None:
    text = '{"question": "A?", "answer": "x"}\nnot json\n{"question": "B?", "reassuring": "yes"}\n'
    _write(tmp_path, {"f.jsonl": text + '{"question": "C?", "answer": "y"}\n{"answer": ""}\n'})
    with pytest.raises(CorpusError) as caught:
        load_corpus([tmp_path])
    assert str(caught.value).splitlines() == [
        "5 errors in the corpus:",
        "f.jsonl:2: not valid JSON (Expecting value at column 1)",
        "f.jsonl:3: field 'answer': Field required",
        "f.jsonl:3: field 'reassuring': Input should be a valid boolean",
        "f.jsonl:5: field 'question': Field required",
        "f.jsonl:5: field 'answer': must not be empty",
    ]
    assert all(isinstance(problem, Problem) for problem in caught.value.problems)
    assert [problem.line for problem in caught.value.problems] == [2, 3, 3, 5, 5]
    dumped = caught.value.problems[0].model_dump()  # what an HTTP front end returns
    assert dumped == {"source": "f.jsonl", "line": 2, "message": dumped["message"], "severity": "error"}


def test_problems_come_file_by_file_and_the_message_is_capped(tmp_path: Path) -> None:
    rows = "".join(f"Q{n}?,\n" for n in range(MAX_LISTED + 5))
    _write(tmp_path, {"a.csv": "question,answer\n" + rows, "b.txt": "Orphan text.\n\nWhy?\n"})
    check = check_corpus([tmp_path])
    assert [p.source for p in check.errors] == ["a.csv"] * (MAX_LISTED + 5) + ["b.txt", "b.txt"]
    assert [p.line for p in check.errors[:3]] == [2, 3, 4]
    with pytest.raises(CorpusError) as caught:
        load_corpus([tmp_path])
    lines = str(caught.value).splitlines()
    assert lines[0] == f"{MAX_LISTED + 7} errors in the corpus:"
    assert len(lines) == 1 + MAX_LISTED + 1
    assert lines[-1] == "... and 7 more"
    assert len(caught.value.problems) == MAX_LISTED + 7


def test_check_corpus_reports_bad_paths_instead_of_raising(tmp_path: Path) -> None:
    assert [str(p) for p in check_corpus([]).problems] == ["no corpus given: pass --corpus FILE_OR_FOLDER"]
    assert [str(p) for p in check_corpus([tmp_path / "missing"]).problems] == [
        f"{tmp_path / 'missing'}: no such file or folder"
    ]
    assert "no corpus files" in str(check_corpus([tmp_path]).problems[0])


def test_warnings_do_not_block_loading(tmp_path: Path) -> None:
    long_answer = "word " * (LONG_ANSWER_CHARS // 5 + 1)
    _write(
        tmp_path,
        {
            "a.md": f"## What causes febrile seizures?\n\nA fever.\n\n## Is it long?\n\n{long_answer}\n",
            "b.csv": "question,answer\nWhat causes a febrile seizure?,High temperature.\n",
        },
    )
    entries = load_corpus([tmp_path])
    assert len(entries) == 3
    check = check_corpus([tmp_path])
    assert check.errors == []
    assert [(p.source, p.line, p.severity) for p in check.warnings] == [("a.md", 7, "warning"), ("b.csv", 2, "warning")]
    assert "characters long (over 5,000)" in check.warnings[0].message
    assert str(check.warnings[1]) == (
        "b.csv:2: warning: question 'What causes a febrile seizure?' is nearly the same as "
        "'What causes febrile seizures?' at a.md:3; if they ask the same thing, merge the entries"
    )


def _entry(number: int, *questions: str) -> Entry:
    return Entry(id=f"e{number}", questions=questions, answer="A.", source="f.jsonl", lines=(number, number))


@pytest.mark.parametrize(
    ("first", "second", "near"),
    [
        ("What causes febrile seizures?", "What causes a febrile seizure?", True),  # plural, "a"
        ("Is baby twitching normal?", "Normal: is baby twitching?", True),  # word order
        ("What are the symptoms of seizures?", "What are the symtoms of seizures?", True),  # typo
        ("How are infantile spasms treated?", "How are infantile spasms treeted?", True),
        ("What are the treatments for Pfeiffer syndrome?", "What are the treatments for Behr syndrome?", False),
        ("What causes febrile seizures?", "How are febrile seizures treated?", False),
        ("Why do babies have spasms?", "When do babies have spasms?", False),  # question words count
        ("What is type 1 epilepsy?", "What is type 2 epilepsy?", False),
        ("Is twitching normal?", "Is twitching not normal?", False),
    ],
)
def test_near_duplicate_questions(first: str, second: str, near: bool) -> None:
    problems = check_entries([_entry(1, first), _entry(2, second)])
    assert [p.severity for p in problems] == (["warning"] if near else [])
    if near:
        assert problems[0].line == 2
        assert problems[0].message.startswith(f"question {second!r} is nearly the same as {first!r} at f.jsonl:1;")


def test_a_large_templated_corpus_raises_no_false_near_duplicates() -> None:
    """Speed is measured, not asserted: `qa index --check` on MedQuAD is in the README's re-indexing figures."""
    letters = random.Random(0)
    topics = ["".join(letters.choices(string.ascii_lowercase, k=9)) + " syndrome" for _ in range(4000)]
    templates = ("What is {}?", "What are the symptoms of {}?", "How is {} treated?", "Is {} inherited?")
    questions = [template.format(topic) for topic in topics for template in templates]
    entries = [_entry(number, question) for number, question in enumerate(questions, start=1)]
    problems = check_entries(entries)
    assert len(entries) == 16_000
    assert [p.severity for p in problems] == []


def test_fingerprint_counts_every_file(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("Why?\n\nBecause.\n")
    before = fingerprint([tmp_path])
    (tmp_path / ".hidden").write_text("x")
    assert fingerprint([tmp_path]) == before
    (tmp_path / "stray.pdf").write_text("x")
    assert fingerprint([tmp_path]) != before  # a rebuild is triggered, and it reports the stray file
    with pytest.raises(CorpusError, match="no such file or folder"):
        fingerprint([tmp_path / "missing"])


def test_loading_and_checking_import_no_model_stack(tmp_path: Path) -> None:
    (tmp_path / "f.md").write_text("## Why?\n\nBecause.\n")
    script = (
        "import sys\nfrom pathlib import Path\nimport qa.loaders\n"
        f"qa.loaders.check_corpus([Path({str(tmp_path)!r})])\n"
        "print(sorted(name for name in ('torch', 'sentence_transformers') if name in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.strip() == "[]"
