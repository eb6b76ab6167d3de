"""Does this message describe an emergency now? The red-flag detector.

It reads only the user's message (never the retrieved answer) and errs on the
side of firing: a false alarm costs little, a miss can cost a life. A rule
match is set aside only for a clear reason: a negation just before it, an
`unless` pattern over it, a distant-past event, or a general information
question with no personal reference. When no rule fires, the nearest reviewed
example messages give a second opinion (`qa.safety.examples`), under the same
past-event and general-question checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.embedder import Embedder
from qa.records import RedFlag
from qa.safety.banners import EMERGENCY_BANNER, URGENT_NOTICE
from qa.safety.context import (
    about_an_adult,
    about_the_past,
    brought_back,
    general_question,
    is_information_question,
    negated,
    open_to_resemblance,
)
from qa.safety.examples import Example, ExampleMatcher, load_examples
from qa.safety.fever import fever_verdict
from qa.safety.rules import Rule, RuleBook, load_rules
from qa.safety.text import WordFixer, canonical, sentences


@dataclass(frozen=True)
class Finding:
    concept: str
    tier: str
    sources: tuple[str, ...]


Span = tuple[int, int]


def _scan(rule: Rule, text: str, history: str) -> tuple[bool, list[Span]]:
    """Does the rule fire, and which of its matches were set aside (negated, another sense, a grown-up's)?

    `history` is the message before `text`, for whom "he" or "she" means.
    """
    excluded = [m.span() for pattern in rule.unless for m in pattern.finditer(text)]
    set_aside: list[Span] = []
    for pattern in rule.patterns:
        for match in pattern.finditer(text):
            overlaps = any(start < match.end() and match.start() < end for start, end in excluded)
            if not overlaps and not negated(text, match) and not about_an_adult(text, match, history):
                return True, []
            set_aside.append(match.span())
    return False, set_aside


def _blank(text: str, spans: list[Span]) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + " " + text[end:]
    return text


class RedFlagDetector:
    """Rules first; when none fires, the example bank's second opinion (if an embedder is given)."""

    def __init__(
        self,
        book: RuleBook | None = None,
        known_words: frozenset[str] = frozenset(),
        embedder: Embedder | None = None,
        cache_dir: Path | None = None,
        examples: Sequence[Example] | None = None,
    ) -> None:
        """`examples` replaces the reviewed bank (to measure the second opinion on a set it has not seen)."""
        self.book = book or load_rules()
        self._fix = WordFixer(self.book.spelling, self.book.lexicon, known_words | self.book.keep)
        self._examples: ExampleMatcher | None = None
        if embedder is not None:
            bank = load_examples() if examples is None else examples
            self._examples = ExampleMatcher(embedder, bank, self.prepare, cache_dir=cache_dir)
        # A concept keeps its own tier and sources, whoever finds it.
        self._concepts = {rule.concept: Finding(rule.concept, rule.tier, rule.sources) for rule in self.book.rules}
        fever = self.book.fever
        self._concepts[fever.concept] = Finding(fever.concept, fever.tier, fever.sources)

    def prepare(self, message: str) -> str:
        return self._fix(canonical(message))

    def findings(self, message: str) -> list[Finding]:
        text = self.prepare(message)
        all_sentences = sentences(text)
        if is_information_question(text, all_sentences):
            return []
        flat = " ".join(all_sentences)
        now = not about_the_past(flat)
        found: dict[str, Finding] = {}
        # Each sentence alone, then the whole message: signs are often told across sentences
        # ("had what looked like a fit?? never happened before").
        # Sentences that are past events or general questions ("what is apnoea of prematurity?") are
        # not about now; the rest are read alone, then together.
        # A past sentence comes back when the message says it recurs ("last week ... it happened again today").
        current = [i for i, part in enumerate(all_sentences) if not general_question(part)]
        parts = [
            (" ".join(all_sentences[:i]), all_sentences[i]) for i in current if not about_the_past(all_sentences[i])
        ]
        if now and (len(parts) > 1 or (brought_back(flat) and len(current) > 1)):
            whole = [all_sentences[i] for i in current] if brought_back(flat) else [part for _, part in parts]
            parts.append(("", " ".join(whole)))
        # What the rules looked at and set aside ("he's not floppy") is no evidence for the second opinion.
        unjudged = ""
        for history, part in ((h, self.book.without_other_senses(p)) for h, p in parts):
            set_aside: list[Span] = []
            for rule in self.book.rules:
                if rule.concept in found:
                    continue
                fires, spans = _scan(rule, part, history)
                if any(p.search(part) for p in rule.clears):  # "purple from the beetroot": ruled out
                    fires, spans = False, [m.span() for p in rule.patterns for m in p.finditer(part)]
                if fires:
                    found[rule.concept] = self._concepts[rule.concept]
                set_aside += spans
            unjudged = _blank(part, set_aside)
        fever = self.book.fever
        fever_says = fever_verdict(flat, fever, is_negated=negated) if now else None
        if fever_says:
            found[fever.concept] = self._concepts[fever.concept]
        if not found and self._examples is not None and now and open_to_resemblance(unjudged):
            opinion = self._examples.opinion(unjudged)
            for concept in opinion.concepts if opinion is not None else ():
                if not (concept == fever.concept and fever_says is False):
                    found[concept] = self._concepts[concept]
        return list(found.values())

    def check(self, message: str) -> RedFlag:
        findings = self.findings(message)
        if not findings:
            return RedFlag()
        emergency = any(f.tier == "emergency" for f in findings)
        return RedFlag(
            triggered=True,
            tier="emergency" if emergency else "urgent",
            terms=[f.concept for f in findings],
            banner=EMERGENCY_BANNER if emergency else URGENT_NOTICE,
        )
