"""Pure retrieval logic, and what a red flag does to the hits shown, with small inline fixtures and a fake embedder."""

from __future__ import annotations

import numpy as np

from qa.index import RowKind, build_index
from qa.lexical import LexicalIndex, terms
from qa.query import Speller, Synonyms, normalise
from qa.records import Entry, RedFlag
from qa.retriever import Hit, Retriever, Scoring, entry_evidence
from qa.service import select_hits
from tests.fakes import HashingEmbedder


def _entry(number: int, *questions: str, answer: str = "An answer.") -> Entry:
    return Entry(id=f"e{number}", questions=questions, answer=answer, source="t.txt", lines=(number, number))


def test_evidence_takes_best_question_and_answer_per_entry() -> None:
    sims = np.array([0.2, 0.7, 0.4, 0.9, 0.1])
    rows = np.array([0, 0, 0, 1, 1])
    kinds = np.array([RowKind.QUESTION, RowKind.QUESTION, RowKind.ANSWER, RowKind.QUESTION, RowKind.ANSWER])
    assert entry_evidence(sims, rows, kinds) == {0: (0.7, 0.4, 1), 1: (0.9, 0.1, 3)}


def test_confidence_is_bounded_monotonic_and_half_at_threshold() -> None:
    scoring = Scoring(abstain_threshold=0.5)
    values = [scoring.confidence(s) for s in (-1.0, 0.2, 0.5, 0.8, 1.0)]
    assert values == sorted(values)
    assert values[2] == 0.5
    assert all(0.0 <= v <= 1.0 for v in values)


def test_speller_fixes_unknown_words_towards_the_corpus_only() -> None:
    speller = Speller(frozenset({"seizure", "spasms", "twitching"}), frozenset({"baby", "sleep", "seizing"}))
    assert speller.correct("siezure in my baby") == "seizure in my baby"
    assert speller.correct("infant spazms, twiching") == "infant spasms, twitching"
    assert speller.correct("baby sleep seizing") == "baby sleep seizing"  # known words untouched
    assert speller.correct("xylophone") == "xylophone"  # nothing close: left alone


def test_normalise_straightens_quotes_and_spaces() -> None:
    assert normalise("isn’t  “blue”\u00a0now") == 'isn\'t "blue" now'


def test_synonyms_add_corpus_words_once() -> None:
    synonyms = Synonyms({"fit": "seizure", "fits": "seizures", "soft spot": "fontanelle"})
    assert synonyms.expand("had a fit") == "had a fit (seizure)"
    assert synonyms.expand("fits and a bulging soft spot") == "fits and a bulging soft spot (fontanelle, seizures)"
    assert synonyms.expand("nappy doesn't fitt") == "nappy doesn't fitt"
    assert synonyms.expand("a seizure, a fit") == "a seizure, a fit"


def test_lexical_coverage_weights_rare_words() -> None:
    index = LexicalIndex(["babies hiccups colic", "babies fever seizure", "babies sleep"])
    coverage = index.coverage("are my baby's hiccups normal")
    assert coverage.argmax() == 0
    assert coverage.min() >= 0.0 and coverage.max() <= 1.0
    assert index.coverage("the and of").sum() == 0.0
    assert terms("Hiccupping babies") == ["hiccup", "babi"]


def test_retriever_ranks_distinct_entries_and_cites_matched_question() -> None:
    entries = [
        _entry(1, "Why is the sky blue?", "Where does blue sky come from?", answer="Scattering of light."),
        _entry(2, "How do fish breathe?", answer="Through gills."),
        _entry(3, "What is rain?", answer="Water falling from clouds."),
    ]
    embedder = HashingEmbedder()
    build = build_index(entries, embedder, "fp")
    retriever = Retriever.create(build, embedder, Scoring(), frozenset(), Synonyms({}))
    hits = retriever.search("where does blue sky come from", limit=3)
    assert hits[0].entry.id == "e1"
    assert hits[0].matched_question == "Where does blue sky come from?"
    assert len({h.entry.id for h in hits}) == 3
    assert [h.similarity for h in hits] == sorted((h.similarity for h in hits), reverse=True)


# ---------------------------------------------------------------- what a banner does to the hits shown


def _hit(entry_id: str, similarity: float, *, reassuring: bool = False) -> Hit:
    entry = Entry(
        id=entry_id, questions=(f"{entry_id}?",), answer="A.", source="t.txt", lines=(1, 1), reassuring=reassuring
    )
    return Hit(entry, similarity, entry.question)


HITS = [
    _hit("normal", 0.9, reassuring=True),
    _hit("spasms", 0.8),
    _hit("clusters", 0.6),
    _hit("causes", 0.4),
    _hit("fever", 0.3),
]
CALM = RedFlag()
URGENT = RedFlag(triggered=True, tier="urgent", terms=["infantile_spasms_suspected"])
EMERGENCY = RedFlag(triggered=True, tier="emergency", terms=["not_breathing"])


def _ids(hits: list[Hit]) -> list[str]:
    return [hit.entry.id for hit in hits]


def test_without_a_red_flag_reassuring_entries_are_answers_like_any_other() -> None:
    answers, related = select_hits(HITS, 3, 0.5, CALM)
    assert _ids(answers) == ["normal", "spasms", "clusters"]
    assert _ids(related) == ["causes", "fever"]  # below the threshold too: "closest questions"


def test_urgent_holds_back_reassurance_and_keeps_suggestions_on_topic() -> None:
    answers, related = select_hits(HITS, 1, 0.5, URGENT)
    assert _ids(answers) == ["spasms"]
    assert _ids(related) == ["clusters"]  # at or above the threshold only, never the reassuring one
    assert _ids(select_hits(HITS, 3, 0.5, URGENT)[1]) == []


def test_emergency_holds_back_reassurance_and_offers_nothing_to_browse() -> None:
    answers, related = select_hits(HITS, 3, 0.5, EMERGENCY)
    assert _ids(answers) == ["spasms", "clusters"]
    assert related == []
    # A tier this code does not know is treated like an emergency.
    assert select_hits(HITS, 3, 0.5, RedFlag(triggered=True, tier="new-tier"))[1] == []


def test_when_only_reassurance_matched_a_red_flag_means_no_answer() -> None:
    answers, related = select_hits([_hit("normal", 0.9, reassuring=True), _hit("fever", 0.3)], 3, 0.5, URGENT)
    assert answers == [] and related == []
