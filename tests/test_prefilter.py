"""The rule prefilter may name too many rules, never too few: a rule it leaves out cannot match."""

from __future__ import annotations

import json
import re

import pytest

from qa.config import PROJECT_ROOT
from qa.safety import RedFlagDetector
from qa.safety.prefilter import RulePrefilter, re2_superset
from qa.safety.rules import Rule


@pytest.mark.parametrize(
    ("pattern", "relaxed"),
    [
        (r"a(?!b)c", "a(?:)c"),
        (r"\bout cold\b(?!.{0,30}\b(?:since \d|feed))|\bcant wake\b", r"\bout cold\b(?:)|\bcant wake\b"),
        (r"(?<=x)y(?<!z)", "(?:)y(?:)"),
        (r"a(?![)(])b", "a(?:)b"),  # parentheses in a class open and close nothing
        (r"a(?!(?:b|c)d)e", "a(?:)e"),
        (r"a(?=b){2}", "a(?:){2}"),  # the quantifier keeps repeating nothing, not the "a"
        (r"x{,3}y", "x{0,3}y"),  # Python's {,n}, which RE2 would read as text
        (r"[{,]x", "[{,]x"),
        (r"\(?!x", r"\(?!x"),  # an escaped parenthesis, an optional one: no lookahead
        (r"[(?!]x", r"[(?!]x"),
        (r"[]a](?=b)", "[]a](?:)"),
    ],
)
def test_re2_reads_each_pattern_as_at_least_as_wide(pattern: str, relaxed: str) -> None:
    assert re2_superset(pattern) == relaxed


@pytest.mark.parametrize("pattern", [r"a(?=b){2}", r"x{,3}y", r"\bno(?! way)\b", r"(?<!not )blue", r"[]a](?=b)"])
def test_the_re2_form_matches_wherever_python_does(pattern: str) -> None:
    import re2

    texts = ["ab", "abab", "aab", "xxy", "y", "xxxxy", "no way", "no", "not blue", "blue", "]b", "a b"]
    for text in texts:
        if re.search(pattern, text):
            assert re2.search(re2_superset(pattern), text), (pattern, text)


def test_a_posix_class_is_refused() -> None:
    with pytest.raises(ValueError, match="POSIX"):
        re2_superset("[[:alpha:]]+")


def _messages() -> list[str]:
    rows = []
    for path in sorted((PROJECT_ROOT / "eval" / "safety").glob("*.jsonl")):
        rows += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows


def test_every_rule_that_matches_a_sentence_is_a_candidate() -> None:
    """Over every labelled message: what a rule's Python patterns match, the prefilter lets through."""
    detector = RedFlagDetector()
    prefilter = RulePrefilter(detector.book.rules)
    sentences = [part.text for message in _messages() for part in detector.parse(message).parts]
    assert len(sentences) > 5000
    skipped = 0
    for text in sentences:
        could = prefilter.candidates(text)
        assert could is not None, text  # normalised text: the prefilter reads it
        for number, rule in enumerate(detector.book.rules):
            if number not in could:
                assert not any(pattern.search(text) for pattern in rule.patterns), (rule.concept, text)
                skipped += 1
    assert skipped > 0.8 * len(sentences) * len(detector.book.rules)  # it does leave most rules out


def _rule(*patterns: str) -> Rule:
    return Rule("c", "emergency", ("a source",), tuple(re.compile(p) for p in patterns), (), ())


@pytest.mark.filterwarnings("ignore:Possible nested set")  # Python's own doubt about "[[:alpha:]]"
def test_a_pattern_re2_cannot_read_makes_its_rule_a_candidate_everywhere() -> None:
    prefilter = RulePrefilter([_rule(r"\bblue\b"), _rule(r"(floppy) and \1"), _rule(r"[[:alpha:]]x")])
    assert prefilter.candidates("he is pink") == {1, 2}
    assert prefilter.candidates("she is blue") == {0, 1, 2}


def test_text_outside_the_normalised_alphabet_is_tried_against_every_rule() -> None:
    prefilter = RulePrefilter([_rule(r"\bblue\b")])
    assert prefilter.candidates("she is blue") == {0}
    for text in ["she is blüe", "she is blue\n", "She is blue", "38° and blue", "blue, not grey"]:
        assert prefilter.candidates(text) is None, text


def test_a_set_past_the_memory_budget_means_every_rule_is_tried() -> None:
    prefilter = RulePrefilter([_rule(r"\bblue\b"), _rule(r"\b(?:floppy|limp|rag doll)\b")], max_memory=1024)
    assert prefilter.candidates("he is pink") is None
    assert RulePrefilter([_rule(r"\bblue\b")]).candidates("he is pink") == set()


class _FailedSearch:
    """RE2's set when a search runs out of memory: it reports no match at all."""

    def Match(self, text: str) -> None:  # RE2 names it so
        return None


def test_a_search_that_did_not_finish_means_every_rule_is_tried() -> None:
    prefilter = RulePrefilter([_rule(r"\bblue\b")])
    assert prefilter.candidates("he is pink") == set()
    prefilter._set = _FailedSearch()
    assert prefilter.candidates("he is pink") is None


def test_the_detector_finds_the_same_with_the_prefilter() -> None:
    """The whole check, prefiltered, against every rule tried on every sentence (a prefilter that
    lets every rule through), on the suite's labelled messages."""
    prefiltered = RedFlagDetector()
    everything = RedFlagDetector()
    everything._prefilter = _EveryRule()  # type: ignore[assignment]
    for message in _messages()[::3]:
        assert prefiltered.findings(message) == everything.findings(message), message


class _EveryRule:
    def candidates(self, text: str) -> None:
        return None
