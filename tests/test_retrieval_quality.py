"""Answer quality with the real model, real FAISS and the shipped ranker, through the service.

The labelled sets in `eval/retrieval/` (all but the frozen ones) trained the shipped ranker and are the
seed corpus's example questions. Each is judged here with its own questions set aside from the examples
(`qa eval --unseen`); the ranker's weights still saw them, so the figures are floors against regressions,
not claims about unseen questions. That claim is tested by refitting without each set in turn and
judging the set left out, with the other sets as examples.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from qa.builder import build
from qa.config import PROJECT_ROOT, Settings
from qa.embedder import Embedder
from qa.evaluate import load_labelled
from qa.fitting import Sample, leave_one_set_out
from qa.loaders import load_corpus
from qa.qtype import QuestionTypes
from qa.ranker import Ranker
from qa.records import Entry
from qa.service import QAService, open_retriever
from tests.conftest import SEED_CORPUS, copy_seed_corpus

EVAL = PROJECT_ROOT / "eval" / "retrieval"
ENTRIES = load_corpus([SEED_CORPUS])


FLOORS = {
    "team_tuning": (0.95, 0.96, 0.95),
    "team_heldout1": (0.88, 0.92, 0.90),
    "team_heldout2": (0.92, 0.96, 0.95),
    "dev3": (0.95, 0.96, 0.94),
    "dev4": (0.90, 0.95, 0.83),
    "dev5": (0.91, 0.95, 0.0),  # in-scope questions only
    "dev6": (0.0, 0.0, 0.90),  # off-topic questions only
    "dev7": (0.92, 0.96, 0.84),
    "acceptance1": (0.89, 0.94, 0.92),
    "acceptance4": (0.96, 0.96, 0.92),
    "acceptance5": (0.92, 0.95, 0.96),
}
"""(acceptable@1, answered, off-topic abstained) through the service (safety hold-backs included): a few
points under this version's figures, so a regression fails."""
TRAINING = tuple(FLOORS)


@pytest.mark.parametrize("name", TRAINING)
def test_training_sets_stay_above_their_floor(service: QAService, name: str) -> None:
    report = service.evaluate(load_labelled(EVAL / f"{name}.jsonl"), unseen=True)
    assert report.seen == 0
    misses = [(f.question, f.got) for f in report.failures]
    acceptable, answered, abstained = FLOORS[name]
    assert report.acceptable_at_1 >= acceptable, misses
    assert report.answered >= answered, misses
    assert report.abstained >= abstained, misses


def _near_copies(entry: Entry) -> list[str]:
    """The entry's own questions as typed, lower case without punctuation, and with one slip."""
    copies = []
    for question in entry.questions:
        copies += [question, re.sub(r"[^\w\s]", "", question.lower())]
        word = max(question.split(), key=len)
        copies.append(question.replace(word, word[:2] + word[3] + word[2] + word[4:], 1))
    return copies


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_a_corpus_question_asked_word_for_word_ranks_its_own_entry_first(service: QAService, entry: Entry) -> None:
    for question in _near_copies(entry):
        result = service.ask(question)
        assert not result.abstained, question
        assert result.answers[0].id == entry.id, (question, [a.id for a in result.answers])


def test_far_off_topic_questions_abstain(service: QAService) -> None:
    far = [item for item in load_labelled(EVAL / "dev3.jsonl") if item.kind == "offtopic_far"]
    assert len(far) >= 10
    answered = {item.question: [a.id for a in service.ask(item.question).answers] for item in far}
    assert all(ids == [] for ids in answered.values()), answered


def test_an_abstention_still_offers_the_closest_questions(service: QAService) -> None:
    result = service.ask("what's the capital of France")
    assert result.abstained and result.answers == []
    assert result.suggestions


def test_a_long_message_is_answered_on_its_question(service: QAService) -> None:
    story = (
        "Sorry for the long post. My daughter is 5 months old and we had a really rough week, she had her jabs "
        "on Monday and has been grumpy and off her milk since, and my mum has been staying which is lovely but "
        "busy. Anyway since Thursday she does this thing when she wakes up where her arms fly up and her head "
        "drops, maybe eight or ten times in a row. What causes infantile spasms in babies?"
    )
    result = service.ask(story)
    assert not result.abstained
    assert result.answers[0].id in {"what-causes-infantile-spasms-in-babies", "why-do-babies-have-spasms"}


def test_shipped_ranker_was_fitted_on_these_features() -> None:
    ranker = Ranker.load()
    assert 0.0 < ranker.threshold < 1.0
    assert set(ranker.report["leave_one_set_out"]) >= set(TRAINING)


def test_refitting_without_a_set_still_answers_it(
    service: QAService, settings: Settings, embedder: Embedder
) -> None:
    """Leave one set out on the seed corpus: weights, calibration and threshold never see the set judged."""
    assert QuestionTypes.load().available(embedder.model_id, embedder.dimension)
    retriever = open_retriever(settings, embedder)  # the service's own retriever, for its evidence rows
    samples = []
    assert {example.set for example in retriever.build.examples} == set(TRAINING)
    for name in TRAINING:
        items = load_labelled(EVAL / f"{name}.jsonl")
        judged = retriever.leaving_out({name}).evidence_many([i.question for i in items])
        for item, found in zip(items, judged, strict=True):
            ids = tuple(retriever.build.entries[int(e)].id for e in found.entries)
            samples.append(Sample(name, item, ids, found.rows))
    reports = leave_one_set_out(samples)
    figures = {name: (r.acceptable_at_1, r.answered, r.abstained) for name, r in reports.items()}
    answering = [r for r in reports.values() if r.in_scope]
    assert sum(r.acceptable_at_1 for r in answering) / len(answering) >= 0.85, figures
    assert all(r.acceptable_at_1 >= 0.70 for r in answering), figures
    assert all(r.abstained >= 0.60 for r in reports.values() if r.out_of_scope), figures


def test_answers_are_distinct_verbatim_and_scored(service: QAService) -> None:
    result = service.ask("what do infantile spasms look like", top_k=5)
    ids = [a.id for a in result.answers]
    assert len(ids) == len(set(ids)) >= 1
    scores = [a.score for a in result.answers]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    entries = {e.id: e for e in ENTRIES}
    for answer in result.answers:
        assert answer.text == entries[answer.id].answer
        assert answer.citation.question in entries[answer.id].questions


def test_alternate_question_is_cited_when_it_is_the_match(service: QAService) -> None:
    result = service.ask("What are the symptoms of a seizure in a child?")
    assert result.answers[0].citation.question == "What are the symptoms of a seizure in a child?"
    assert result.answers[0].citation.lines == (21, 27)


NEW_ENTRY = """

Can a baby have a seizure while asleep?

Yes. A seizure can happen while a baby is asleep. It may look like jerking, stiffening or unusual movements,
and it may wake the baby.
"""


def test_a_new_entry_without_examples_is_found_by_its_question_and_warned_about(
    tmp_path: Path, embedder: Embedder
) -> None:
    """Content grows before its examples do: the new entry answers its own question (give or take typing), the
    build warns that it needs examples, and the other entries keep theirs."""
    folder = copy_seed_corpus(tmp_path)
    shutil.copy(SEED_CORPUS / "infant_seizures_faq.examples.jsonl", folder)
    with (folder / "infant_seizures_faq.txt").open("a", encoding="utf-8") as corpus:
        corpus.write(NEW_ENTRY)
    index = tmp_path / "index"
    report = build([folder], index, embedder)
    new = "can-a-baby-have-a-seizure-while-asleep"
    assert [w.message.split(" has ")[0] for w in report.warnings] == [f"entry {new}"]
    retriever = open_retriever(Settings(corpus=[folder], index_dir=index), embedder)
    for question in ("Can a baby have a seizure while asleep?", "can a baby have a seizure while asleep"):
        hit = retriever.search(question, 1)[0]
        assert (hit.entry.id, hit.score >= retriever.threshold) == (new, True), (question, hit.entry.id, hit.score)
    for entry in ENTRIES:
        assert retriever.search(entry.question, 1)[0].entry.id == entry.id
