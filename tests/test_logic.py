"""Pure retrieval logic, and what a red flag does to the hits shown, with small inline fixtures and a fake embedder."""

from __future__ import annotations

from qa.lexical import LexicalIndex, terms
from qa.query import Speller, Synonyms, normalise
from qa.records import Entry, RedFlag
from qa.retriever import Hit
from qa.service import select_hits


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


# ---------------------------------------------------------------- what a banner does to the hits shown


def _hit(entry_id: str, score: float, *, reassuring: bool = False) -> Hit:
    entry = Entry(
        id=entry_id, questions=(f"{entry_id}?",), answer="A.", source="t.txt", lines=(1, 1), reassuring=reassuring
    )
    return Hit(entry, score, entry.question)


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
