"""The red-flag detector: every rule against its own examples, every phrasing set with itself left out of
the classifier's training, the rules files' integrity, context checks, and the API."""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path

import httpx
import numpy as np
import pytest

from qa.config import PROJECT_ROOT, Settings
from qa.embedder import Embedder
from qa.safety import DISCLAIMER, EMERGENCY_BANNER, URGENT_NOTICE, RedFlagDetector, load_rules
from qa.safety.evaluation import ANY, PhrasingSet, all_rows, load_sets, score
from qa.safety.rules import RULES_DIR
from qa.safety.second_opinion import Example, load_examples
from qa.safety.text import canonical, sentences

SETS = load_sets(PROJECT_ROOT / "eval" / "safety")
BOOK = load_rules()
RULE_EXAMPLES = [(rule.concept, text, True) for rule in BOOK.rules for text in rule.fires] + [
    (rule.concept, text, False) for rule in BOOK.rules for text in rule.quiet
]
# The bar each set must meet with itself left out of the classifier's training (README: Safety). The
# rules have seen every set, so these floors say less than a first-sight figure; they catch regressions.
EMERGENCY_FLOOR, URGENT_FLOOR, FALSE_ALARM_CEILING = 0.97, 0.90, 0.05


@pytest.fixture(scope="module")
def detector(embedder: Embedder) -> RedFlagDetector:
    """The reviewed rules alone: every phrasing must be caught (or left alone) by a rule."""
    return RedFlagDetector(known_words=embedder.vocabulary())


@pytest.fixture(scope="module")
def full_detector(embedder: Embedder, settings: Settings) -> RedFlagDetector:
    """Rules plus the second opinion, as the service runs it (sharing its cache of the bank's vectors)."""
    return RedFlagDetector(known_words=embedder.vocabulary(), embedder=embedder, cache_dir=settings.index_dir / "cache")


@pytest.fixture(scope="module")
def bank() -> list[Example]:
    return load_examples()


@pytest.mark.parametrize(
    ("concept", "text", "fires"), RULE_EXAMPLES, ids=[f"{c}:{t[:40]}" for c, t, _ in RULE_EXAMPLES]
)
def test_every_rule_on_its_own_examples(detector: RedFlagDetector, concept: str, text: str, fires: bool) -> None:
    found = {finding.concept for finding in detector.findings(text)}
    assert (concept in found) is fires, f"{concept} {'missed' if fires else 'fired on'}: {text} (found {found})"


def test_every_rule_has_examples_both_ways() -> None:
    for rule in BOOK.rules:
        assert len(rule.fires) >= 3, rule.concept
        assert len(rule.quiet) >= 2, rule.concept


def test_the_bank_is_built_from_every_set_and_says_where_each_row_came_from(bank: list[Example]) -> None:
    """The product reads only the bank; scripts/redflag_examples.py rebuilds it from eval/safety."""
    texts = {example.text for example in bank}
    assert all(example.origin in {s.file for s in SETS} for example in bank)
    missing = [row.text for row in all_rows(SETS) if row.tier != ANY and row.text not in texts]
    assert not missing, f"run scripts/redflag_examples.py: {len(missing)} phrasings are not in the bank"


@pytest.mark.parametrize("phrasing_set", [s for s in SETS if s.held_out], ids=lambda s: s.file)
def test_each_set_left_out_of_training_meets_the_bar(
    embedder: Embedder, settings: Settings, bank: list[Example], phrasing_set: PhrasingSet
) -> None:
    """As the service runs it (rules plus second opinion), the classifier trained without this set."""
    unseen = [example for example in bank if example.origin != phrasing_set.file]
    detector = RedFlagDetector(
        book=BOOK, known_words=embedder.vocabulary(), embedder=embedder, cache_dir=settings.index_dir / "cache",
        examples=unseen,
    )  # fmt: skip
    result = score(detector.check, phrasing_set.rows)
    misses = [f"{p.tier}: {p.text}" for p, _ in result.misses]
    assert result.rate("emergency") >= EMERGENCY_FLOOR, misses
    assert result.rate("urgent") >= URGENT_FLOOR, misses
    assert result.rate("benign") <= FALSE_ALARM_CEILING, misses


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


@pytest.mark.parametrize(
    ("text", "normal"), [(t, True) for t in BOOK.normal.found] + [(t, False) for t in BOOK.normal.not_found]
)
def test_normal_movements_on_their_own_examples(detector: RedFlagDetector, text: str, normal: bool) -> None:
    assert bool(BOOK.normal.spans(detector.prepare(text))) is normal, text


def test_a_normal_movement_raises_the_second_opinion_s_bar_but_not_the_rules_(
    full_detector: RedFlagDetector,
) -> None:
    # A detector whose classifier fires on anything it finds a little alarming, to see the bar move.
    assert full_detector.second_opinion is not None
    eager = copy.copy(full_detector)
    eager.second_opinion = copy.copy(full_detector.second_opinion)
    eager.second_opinion.threshold = 0.05
    told = "tonight I noticed little twitches at the corner of her mouth and her eyelid"
    normal = "tonight while she was feeding I noticed little twitches at the corner of her mouth and her eyelid"
    assert not BOOK.normal.spans(eager.prepare(told)) and BOOK.normal.spans(eager.prepare(normal))
    assert 0.05 < eager.second_opinion.probability(normal) < 0.9
    assert eager.check(told).triggered
    assert not eager.check(normal).triggered
    # The rules still read the whole message.
    assert full_detector.check(normal + " and now her lips are blue").tier == "emergency"


def test_the_retriever_s_vector_names_the_concepts_without_another_model_call(
    full_detector: RedFlagDetector, embedder: Embedder
) -> None:
    text = "he feels like a bag of flour and his eyes are looking through me"
    own = full_detector.check(text)
    assert own.triggered
    assert full_detector.check(text, embedder.encode([text])[0]) == own


def test_every_rule_names_a_known_source() -> None:
    book = load_rules()
    assert len(book.rules) >= 18
    for rule in book.rules:
        assert rule.sources and all(source in book.sources for source in rule.sources)
        assert rule.tier in {"emergency", "urgent"}
    assert book.fever.sources


def test_rules_file_errors_are_loud(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    shutil.copytree(RULES_DIR, folder)
    rule = folder / "not_breathing.toml"
    text = rule.read_text()
    rule.write_text(text.replace("sources = [", 'sources = ["NOWHERE", ', 1))
    with pytest.raises(ValueError, match="known sources"):
        load_rules(folder)
    rule.write_text(text.replace("\\bapn", "{NOPE}", 1))
    with pytest.raises(ValueError, match="unknown macro"):
        load_rules(folder)
    rule.write_text(re.sub(r"(?s)fires = \[.*?\]\n", "", text))
    with pytest.raises(ValueError, match="fires"):
        load_rules(folder)


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


def test_example_vectors_are_cached_by_text(embedder: Embedder, tmp_path: Path) -> None:
    from qa.safety import second_opinion
    from qa.safety.second_opinion import SecondOpinion

    examples = [
        Example("he is not breathing", "emergency", ("not_breathing",)),
        Example("she is not breathing now", "emergency", ("not_breathing",)),
        Example("he is fine now", None, ()),
        Example("she is fine with blue eyes", None, ()),
    ]
    first = SecondOpinion(embedder, examples, str.lower, cache_dir=tmp_path, features="vectors")
    assert len(list(tmp_path.glob("redflag-vectors-*.npz"))) == 1
    second_opinion.forget_vectors()  # a new process: the vectors come back from the file, not the model
    second = SecondOpinion(embedder, examples, str.lower, cache_dir=tmp_path, features="vectors")
    assert np.array_equal(first._named_vectors, second._named_vectors)
    assert second.probability("he is not breathing") > second.probability("she is fine with blue eyes")


@pytest.mark.parametrize(
    "keyword",
    ["fits", "seizure", "epilepsy", "breathing", "seizure first aid", "spasms", "febrile seizures", "infantile spasms"],
)
def test_a_bare_topic_is_not_an_emergency(full_detector: RedFlagDetector, keyword: str) -> None:
    assert not full_detector.check(keyword).triggered


def test_a_concept_keeps_its_own_tier_whoever_finds_it(full_detector: RedFlagDetector) -> None:
    tiers = {rule.concept: rule.tier for rule in BOOK.rules}
    for row in SETS[-1].rows:
        if row.tier:
            result = full_detector.check(row.text)
            expected = "emergency" if any(tiers.get(t, "emergency") == "emergency" for t in result.terms) else "urgent"
            assert result.tier == expected if result.terms else result.tier is None, row.text


@pytest.mark.parametrize(
    "text",
    ["fitting 10 mins", "lips purple", "dusky", "not breathing", "floppy", "back2back fits", "temp 35.2", "6wk 38.1"],
)
def test_a_terse_message_that_names_a_sign_fires(full_detector: RedFlagDetector, text: str) -> None:
    assert full_detector.check(text).tier == "emergency", text


@pytest.mark.parametrize(
    ("text", "tier"),
    [
        ("she's choking on a grape and can't cough", "emergency"),
        ("choked on milk but coughed it straight up and is fine", None),
        ("he had a febrile seizure an hour ago, it stopped, he's back to normal but nobody has checked him", "urgent"),
        ("his first ever seizure, with a fever, it stopped after a minute", "emergency"),
        ("she had a febrile seizure this morning and the GP checked her, all fine", None),
        ("he had a febrile seizure 2 years ago, can he still have his jabs?", None),
    ],
)
def test_choking_and_a_febrile_seizure_that_has_stopped(detector: RedFlagDetector, text: str, tier: str | None) -> None:
    assert detector.check(text).tier == tier, text


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
