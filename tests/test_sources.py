"""Source metadata (sidecar files and Markdown front matter) reaches every entry and every citation."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.errors import CorpusError
from qa.loaders import check_corpus, load_corpus
from tests.conftest import SEED_CORPUS

FAQ = "What is a febrile seizure?\n\nA fit caused by a fever.\n"


def test_the_seed_corpus_names_its_source_and_invents_nothing() -> None:
    entries = load_corpus([SEED_CORPUS])
    assert {e.title for e in entries} == {"Infant twitching, spasms and seizures: questions and answers"}
    assert {(e.publisher, e.url, e.reviewed) for e in entries} == {(None, None, None)}  # unknown stays empty


def test_a_sidecar_fills_what_an_entry_does_not_say(tmp_path: Path) -> None:
    (tmp_path / "faq.txt").write_text(FAQ)
    (tmp_path / "faq.source.toml").write_text(
        'title = "Febrile seizures"\npublisher = "NHS"\nurl = "https://example.org/fs"\nreviewed = "2026-11"\n'
    )
    (tmp_path / "more.jsonl").write_text('{"question": "Fever fit?", "answer": "Yes.", "source": "GOSH"}\n')
    (tmp_path / "more.source.toml").write_text('publisher = "ignored: the line names its own"\ntitle = "More"\n')
    by_id = {e.id: e for e in load_corpus([tmp_path])}
    fs = by_id["what-is-a-febrile-seizure"]
    expected = ("Febrile seizures", "NHS", "https://example.org/fs", "2026-11")
    assert (fs.title, fs.publisher, fs.url, fs.reviewed) == expected
    assert (by_id["fever-fit"].publisher, by_id["fever-fit"].title) == ("GOSH", "More")


def test_markdown_front_matter_carries_the_same_fields(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\ntitle: Spasms\nsource: NHS\nreviewed: 2026-10\n---\n## Why?\n\nBecause.\n")
    (entry,) = load_corpus([tmp_path])
    assert (entry.title, entry.publisher, entry.reviewed) == ("Spasms", "NHS", "2026-10")


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("faq.source.toml", 'titel = "x"\n', "unknown key 'titel'"),
        ("faq.source.toml", "title = 3\n", "'title' must be text"),
        ("faq.source.toml", "title = \n", "not valid TOML"),
        ("other.source.toml", 'title = "x"\n', "source metadata for no corpus file"),
    ],
)
def test_a_bad_sidecar_is_an_error_with_its_file(tmp_path: Path, name: str, text: str, message: str) -> None:
    (tmp_path / "faq.txt").write_text(FAQ)
    (tmp_path / name).write_text(text)
    problems = check_corpus([tmp_path]).errors
    assert [p.source for p in problems] == [name] and message in problems[0].message
    with pytest.raises(CorpusError, match=name):
        load_corpus([tmp_path])


def test_the_citation_names_the_source(service) -> None:  # type: ignore[no-untyped-def]
    cite = service.ask("what do febrile seizures look like?").answers[0].citation
    assert cite.title == "Infant twitching, spasms and seizures: questions and answers"
    assert cite.source == "infant_seizures_faq.txt" and cite.lines == (35, 35)  # file and lines stay for maintainers
