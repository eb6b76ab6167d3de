"""The rule prefilter may name too many rules, never too few: a rule it leaves out cannot match."""

from __future__ import annotations

import json
import re

import pytest

from qa.config import PROJECT_ROOT
from qa.safety import RedFlagDetector
from qa.safety.prefilter import RulePrefilter, without_lookarounds
from qa.safety.rules import Rule


@pytest.mark.parametrize(
    ("pattern", "relaxed"),
    [
        (r"a(?!b)c", "ac"),
        (r"\bout cold\b(?!.{0,30}\b(?:since \d|feed))|\bcant wake\b", r"\bout cold\b|\bcant wake\b"),
        (r"(?<=x)y(?<!z)", "y"),
        (r"a(?![)(])b", "ab"),  # parentheses in a class open and close nothing
        (r"a(?!(?:b|c)d)e", "ae"),
        (r"\(?!x", r"\(?!x"),  # an escaped parenthesis, an optional one: no lookahead
        (r"[(?!]x", r"[(?!]x"),
        (r"[]a](?=b)", "[]a]"),
    ],
)
def test_lookarounds_are_left_out_and_nothing_else(pattern: str, relaxed: str) -> None:
    assert without_lookarounds(pattern) == relaxed


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


def test_a_pattern_re2_cannot_read_makes_its_rule_a_candidate_everywhere() -> None:
    prefilter = RulePrefilter([_rule(r"\bblue\b"), _rule(r"(floppy) and \1")])
    assert prefilter.candidates("he is pink") == {1}
    assert prefilter.candidates("she is blue") == {0, 1}


def test_text_outside_the_normalised_alphabet_is_tried_against_every_rule() -> None:
    prefilter = RulePrefilter([_rule(r"\bblue\b")])
    assert prefilter.candidates("she is blue") == {0}
    for text in ["she is blüe", "she is blue\n", "She is blue", "38° and blue", "blue, not grey"]:
        assert prefilter.candidates(text) is None, text


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
