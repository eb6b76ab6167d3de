"""Does this message describe an emergency now? The red-flag detector.

It reads only the user's message (never the retrieved answer) and errs on the
side of firing: a false alarm costs little, a miss can cost a life. A rule
match is set aside only for a clear reason (`qa.safety.context`): a negation
just before it, another sense of the words (`[senses]`, an `unless` pattern),
a finding that rules it out (`clears`), a what-if, a grown-up's or a pet's
sign, a past or resolved event, or a general question about nobody in
particular. When no rule fires, a classifier trained on reviewed example
messages gives a second opinion (`qa.safety.second_opinion`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from qa.embedder import Embedder
from qa.records import RedFlag
from qa.safety.banners import EMERGENCY_BANNER, URGENT_NOTICE
from qa.safety.context import (
    about_an_adult,
    about_the_past,
    asked_about,
    before_asking,
    brought_back,
    general_question,
    is_information_question,
    negated,
    open_to_resemblance,
    told_as_past,
)
from qa.safety.fever import fever_verdict
from qa.safety.rules import Rule, RuleBook, load_rules
from qa.safety.second_opinion import Example, SecondOpinion, load_examples
from qa.safety.text import WordFixer, canonical, sentences


@dataclass(frozen=True)
class Finding:
    concept: str
    tier: str
    sources: tuple[str, ...]


Span = tuple[int, int]


@dataclass(frozen=True)
class Part:
    """What the rules read: one sentence (with the message before it, for whom "he" means), or the
    whole message (with where its sentences start, so that each sign is dated in its own sentence)."""

    text: str
    history: str = ""
    starts: tuple[int, ...] = (0,)

    @classmethod
    def joined(cls, sentences: list[str]) -> Part:
        starts = [0]
        for sentence in sentences[:-1]:
            starts.append(starts[-1] + len(sentence) + 1)
        return cls(" ".join(sentences), starts=tuple(starts))

    def without(self, spans: list[Span], keep: list[str]) -> str:
        """The text with `spans` blanked, only its sentences in `keep`."""
        chars = list(self.text)
        for start, end in spans:
            chars[start:end] = " " * (end - start)
        blanked = "".join(chars)
        bounds = [*self.starts, len(self.text) + 1]
        pieces = [(self.text[a : b - 1], blanked[a : b - 1]) for a, b in pairwise(bounds)]
        return " ".join(" ".join(piece.split()) for original, piece in pieces if original in keep)


def _scan(rule: Rule, part: Part, recurs: bool) -> tuple[bool, list[Span]]:
    """Does the rule fire, and which of its matches did it judge benign (negated, another sense, asked
    about, told as past)? A match given to a grown-up is not judged benign: if that was wrong, the
    second opinion may still see it."""
    text = part.text
    excluded = [m.span() for pattern in rule.unless for m in pattern.finditer(text)]
    judged: list[Span] = []
    for pattern in rule.patterns:
        for match in pattern.finditer(text):
            overlaps = any(start < match.end() and match.start() < end for start, end in excluded)
            past = not recurs and told_as_past(text, match.span(), part.starts)
            if overlaps or past or negated(text, match) or asked_about(text, match):
                judged.append(match.span())
            elif not about_an_adult(text, match, part.history):
                return True, []
    return False, judged


def _cleared(rule: Rule, text: str) -> bool:
    """A finding in the sentence rules the sign out ("purple from the beetroot"), unless it is negated."""
    return any(not negated(text, m) for pattern in rule.clears for m in pattern.finditer(text))


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
        self.second_opinion: SecondOpinion | None = None
        if embedder is not None:
            bank = load_examples() if examples is None else examples
            self.second_opinion = SecondOpinion(embedder, bank, self.prepare, cache_dir=cache_dir)
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
        # Other senses of the words ("a coughing fit") are blanked before any rule reads them; sentences that
        # only ask about nobody in particular ("what is apnoea?") are not about now.
        masked = [self.book.without_other_senses(part) for part in all_sentences]
        kept = [(i, part) for i, part in enumerate(masked) if not general_question(all_sentences[i], "?" in text)]
        # A past sentence is about now after all when the message says it recurs ("... it happened again today").
        recurs = brought_back(text)
        # Each sentence alone, then the whole message: signs are often told across sentences
        # ("had what looked like a fit?? never happened before").
        parts = [Part(part, " ".join(all_sentences[:i])) for i, part in kept]
        if len(parts) > 1:
            parts.append(Part.joined([part for _, part in kept]))
        found: dict[str, Finding] = {}
        judged: list[Span] = []
        for part in parts:
            judged = []
            for rule in self.book.rules:
                if rule.concept in found:
                    continue
                fires, spans = _scan(rule, part, recurs)
                if fires and _cleared(rule, part.text):
                    fires, spans = False, [m.span() for p in rule.patterns for m in p.finditer(part.text)]
                if fires:
                    found[rule.concept] = self._concepts[rule.concept]
                judged += spans
        now = [part for _, part in kept if recurs or not about_the_past(part)]
        fever = self.book.fever
        fever_says = (
            fever_verdict(" ".join(map(before_asking, now)), fever, is_negated=negated, ages_in=text) if now else None
        )
        if fever_says:
            found[fever.concept] = self._concepts[fever.concept]
        # What the rules judged ("he's not floppy", "purple from the beetroot", the past) is no evidence for
        # the second opinion; it reads the rest of the message (the last part read is the whole message).
        unjudged = parts[-1].without(judged, keep=now) if parts else ""
        if not found and self.second_opinion is not None and open_to_resemblance(unjudged, text):
            opinion = self.second_opinion.opinion(unjudged)
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
