"""The red-flag detector: shared examples, our own phrasings, rules-file integrity, and the API."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import numpy as np
import pytest

from qa.config import Settings
from qa.embedder import SentenceTransformerEmbedder
from qa.safety import DISCLAIMER, EMERGENCY_BANNER, URGENT_NOTICE, RedFlagDetector, load_rules
from qa.safety.rules import RULES_FILE
from qa.safety.text import canonical, sentences
from tests.conftest import DATA, read_jsonl

REFERENCE = json.loads((DATA / "redflag_reference.json").read_text())
TIER = {"EMERGENCY": "emergency", "EMERGENCY_OR_IMMEDIATE": "emergency"}


def _cases() -> list[tuple[str, str | None]]:
    cases: list[tuple[str, str | None]] = []
    for concept in REFERENCE["concepts"]:
        cases += [(text, TIER.get(concept["tier"], "urgent")) for text in concept["phrasings"]]
    cases += [(text, None) for group in REFERENCE["benign"].values() for text in group]
    cases += [(text, "any") for text in REFERENCE["ambiguous_recommend_fire"]]
    for name in sorted(p.name for p in DATA.glob("redflag_*.jsonl")):
        if (DATA / name).exists():
            cases += [(str(item["text"]), item["tier"]) for item in read_jsonl(name)]  # type: ignore[misc]
    return cases


KNOWN_TO_THE_RULES = {
    # Rules alone get these wrong; each is a strict xfail, so a fix shows up.
    "Grandpa here - I've a stinking head cold and a stiff neck from the gardening. Is it safe for me to hold the baby?":
    "false alarm: the grown-up is named as the writer, the 'I' is too far from the sign",
    "My husband says he's 'limp as a noodle' after his night shift, not helpful when I need a hand with the twins":
    "false alarm: 'he' after 'my husband says' is read as the baby (as in 'my wife says he's floppy')",
    "Our hamster died and my 4 year old asked why he won't wake up, how do I explain death to her?":
    "false alarm: 'he' is read as the baby; death is not allowed to clear 'won't wake'",
    "Se cayó del cambiador, golpe en la cabeza, and now vomiting":
    "missed by the rules (Spanish); the second opinion catches it",
}
CASES = _cases()
PARAMS = [
    pytest.param(text, tier, marks=pytest.mark.xfail(strict=True, reason=KNOWN_TO_THE_RULES[text]))
    if text in KNOWN_TO_THE_RULES
    else (text, tier)
    for text, tier in CASES
]


@pytest.fixture(scope="module")
def detector(embedder: SentenceTransformerEmbedder) -> RedFlagDetector:
    """The reviewed rules alone: every phrasing must be caught (or left alone) by a rule."""
    return RedFlagDetector(known_words=embedder.vocabulary())


@pytest.fixture(scope="module")
def full_detector(embedder: SentenceTransformerEmbedder, settings: Settings) -> RedFlagDetector:
    """Rules plus the second opinion, as the service runs it (sharing its cache of the bank's vectors)."""
    return RedFlagDetector(known_words=embedder.vocabulary(), embedder=embedder, cache_dir=settings.index_dir / "cache")


def test_we_wrote_enough_phrasings_of_our_own() -> None:
    own = [item for path in DATA.glob("redflag_*.jsonl") for item in read_jsonl(path.name)]
    assert sum(item["tier"] is not None for item in own) >= 100
    assert sum(item["tier"] is None for item in own) >= 50


@pytest.mark.parametrize(("text", "tier"), PARAMS, ids=[text[:50] for text, _ in CASES])
def test_phrasing(detector: RedFlagDetector, text: str, tier: str | None) -> None:
    result = detector.check(text)
    if tier is None:
        assert not result.triggered, f"false alarm: {result.terms}"
        assert result.banner is None and result.tier is None and result.terms == []
    elif tier == "any":
        assert result.triggered
    elif tier == "emergency":
        assert result.tier == "emergency", f"missed emergency ({result.terms})"
        assert result.banner == EMERGENCY_BANNER
    else:
        assert result.triggered, "missed urgent sign"
        if result.tier == "urgent":
            assert result.banner == URGENT_NOTICE


def test_with_the_second_opinion_every_set_meets_the_bar(full_detector: RedFlagDetector) -> None:
    """As the service runs it: every emergency phrasing fires, at most 5% of each set's benign ones do."""
    for path in sorted(DATA.glob("redflag_*.jsonl")):
        rows = read_jsonl(path.name)
        emergencies = [str(row["text"]) for row in rows if row["tier"] == "emergency"]
        missed = [text for text in emergencies if full_detector.check(text).tier != "emergency"]
        benign = [str(row["text"]) for row in rows if row["tier"] is None]
        alarms = [text for text in benign if full_detector.check(text).triggered]
        assert not missed, f"{path.name}: missed {missed}"
        assert len(alarms) <= 0.05 * len(benign), f"{path.name}: false alarms {alarms}"


@pytest.mark.parametrize(
    "text",
    [
        "he's gone all heavy and droopy in my arms like a sack of potatoes and won't look at me",
        "there's a weird bluey tinge round her mouth since she finished crying",
        "shes breathing funny like shes sucking through a straw and her belly goes in and out hard",
    ],
)
def test_second_opinion_catches_wording_no_rule_has(
    detector: RedFlagDetector, full_detector: RedFlagDetector, text: str
) -> None:
    # If a rule learns this wording, pick another one: this test is about the example bank.
    assert not detector.check(text).triggered
    result = full_detector.check(text)
    assert result.tier == "emergency", text
    book = load_rules()
    sources = {rule.concept: rule.sources for rule in book.rules}
    assert all(term in sources or term == book.fever.concept for term in result.terms)


def test_second_opinion_respects_questions_and_the_past(full_detector: RedFlagDetector) -> None:
    assert not full_detector.check("what does it mean when a baby goes floppy?").triggered
    assert not full_detector.check("she went floppy with a fever last year and has been fine since").triggered


def test_emergency_outranks_urgent_and_names_every_concept(detector: RedFlagDetector) -> None:
    result = detector.check("he stopped smiling last week and now he's not breathing")
    assert result.tier == "emergency"
    assert set(result.terms) >= {"not_breathing"}
    urgent = detector.check("clusters of jerks every morning")
    assert (urgent.tier, urgent.terms, urgent.banner) == ("urgent", ["infantile_spasms_suspected"], URGENT_NOTICE)


def test_every_rule_names_a_known_source() -> None:
    book = load_rules()
    assert len(book.rules) >= 15
    for rule in book.rules:
        assert rule.sources and all(source in book.sources for source in rule.sources)
        assert rule.tier in {"emergency", "urgent"}
    assert book.fever.sources


def test_rules_file_errors_are_loud(tmp_path: Path) -> None:
    broken = tmp_path / "rules.toml"
    text = RULES_FILE.read_text()
    broken.write_text(text.replace('sources = ["CDC", "EF", "HT_FEBRILE"]', 'sources = ["NOWHERE"]', 1))
    with pytest.raises(ValueError, match="known sources"):
        load_rules(broken)
    broken.write_text(text.replace("{SEIZ}", "{NOPE}", 1))
    with pytest.raises(ValueError, match="unknown macro"):
        load_rules(broken)


def test_banners_are_fixed_texts_with_the_essentials() -> None:
    for number in ("911", "999", "112"):
        assert number in EMERGENCY_BANNER
    assert "5 minutes" in EMERGENCY_BANNER
    assert "cannot assess" in EMERGENCY_BANNER
    assert "today" in URGENT_NOTICE


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("He ISN’T breathing!!", "he isnt breathing!!"),
        ("fitting for ten mins", "fitting for 10 mins"),
        ("temp 38 point 2", "temp 38.2"),
        ("half an hour", "30 minutes"),
        ("100.4F", "100.4 f"),
    ],
)
def test_canonical_text(raw: str, expected: str) -> None:
    assert canonical(raw) == expected


def test_sentences_keep_decimals() -> None:
    assert sentences("temp is 38.5. she is floppy") == ["temp is 38.5", "she is floppy"]


def test_api_red_flag_returns_banner_and_still_answers(client: httpx.Client) -> None:
    question = "my baby is having a seizure that has lasted 6 minutes, what do seizures look like"
    response = client.post("/api/ask", json={"question": question})
    body = response.json()
    assert response.headers["x-disclaimer"] == DISCLAIMER
    assert body["red_flag"]["triggered"] is True
    assert body["red_flag"]["tier"] == "emergency"
    assert "seizure_5min_plus_or_ongoing" in body["red_flag"]["terms"]
    assert body["red_flag"]["banner"] == EMERGENCY_BANNER
    assert body["answers"], "the banner comes on top of the answers, not instead of them"


def test_api_banner_also_when_retrieval_abstains(client: httpx.Client) -> None:
    body = client.post("/api/ask", json={"question": "my baby isnt breathing and her lips are blue"}).json()
    assert body["red_flag"]["tier"] == "emergency"
    assert re.search(r"not_breathing", " ".join(body["red_flag"]["terms"]))
    calm = client.post("/api/ask", json={"question": "what do febrile seizures look like?"}).json()
    assert calm["red_flag"] == {"triggered": False, "tier": None, "terms": [], "banner": None}


def test_example_vectors_are_cached_by_model_and_texts(embedder: SentenceTransformerEmbedder, tmp_path: Path) -> None:
    from qa.safety.second_opinion import Example, SecondOpinion

    examples = [
        Example("he is not breathing", "emergency", ("not_breathing",)),
        Example("she is not breathing now", "emergency", ("not_breathing",)),
        Example("he is fine now", None, ()),
        Example("she is fine with blue eyes", None, ()),
    ]
    first = SecondOpinion(embedder, examples, str.lower, cache_dir=tmp_path)
    cached = list(tmp_path.glob("redflag-examples-*.npy"))
    assert len(cached) == 1
    second = SecondOpinion(embedder, examples, str.lower, cache_dir=tmp_path)
    assert np.array_equal(first._vectors, second._vectors)
    SecondOpinion(embedder, [examples[0], *examples[2:]], str.lower, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("redflag-examples-*.npy"))) == 2  # other texts, other key


@pytest.mark.parametrize("keyword", ["fits", "seizure", "epilepsy", "breathing", "blue", "seizure first aid", "spasms"])
def test_a_bare_topic_is_not_an_emergency(full_detector: RedFlagDetector, keyword: str) -> None:
    assert not full_detector.check(keyword).triggered


def test_a_concept_keeps_its_own_tier_whoever_finds_it(full_detector: RedFlagDetector) -> None:
    book = load_rules()
    tiers = {rule.concept: rule.tier for rule in book.rules}
    for text, tier in CASES:
        if tier:
            result = full_detector.check(text)
            expected = "emergency" if any(tiers.get(t, "emergency") == "emergency" for t in result.terms) else "urgent"
            assert result.tier == expected, text


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("i nearly choked on my coffee laughing", False),
        ("my husband has gone limp on the sofa after night shifts", False),
        ("i cant wake her", True),
        ("my wife says the baby turned blue", True),
        ("i think hes not breathing", True),
    ],
)
def test_signs_of_a_grown_up_are_not_the_babys(detector: RedFlagDetector, text: str, fires: bool) -> None:
    assert detector.check(text).triggered is fires


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        # "he" is the grown-up named before, unless a baby has been named or given an age.
        ("My husband has epilepsy. He had a seizure this morning, his first in years, and he's resting", False),
        ("He's 15 months. My husband pulled him out of the pool. He's still twitching", True),
        # A grown-up's temperature is not the baby's; a parent reading the baby's thermometer is.
        ("I've got a temperature of 39 with flu, my 6 week old is 36.8 and well", False),
        ("my 6 week old felt warm so I checked and it's 38.4", True),
        # A past description comes back to now when it recurs.
        ("Last week her head dropped forward over and over when she woke. It happened again today", True),
        ("Last week her head dropped forward over and over when she woke. She's been fine since", False),
        # Other senses of the words are masked before any rule reads them.
        ("she had a coughing fit after gulping her water too fast", False),
        ("she has had 3 fits in the last hour", True),
        ("the past hour: serial seizures, four of them", True),
        ("I noticed the soft spot is bulging", True),
        # Parents time a seizure by the clock.
        ("she started jerking at 3:12 and it's now 3:20", True),
        ("fed him at 3:00 and now it's 3:30, is he hungry again already?", False),
        ("the soft bit isn't dipped like it normally is, it's raised up in a dome", True),
    ],
)
def test_context_decides_whose_sign_and_when(detector: RedFlagDetector, text: str, fires: bool) -> None:
    assert detector.check(text).triggered is fires, text
