"""Does this message describe an emergency now? The red-flag detector.

It reads only the user's message (never the retrieved answer) and errs on the
side of firing: a false alarm costs little, a miss can cost a life. A rule
match is set aside only for a clear reason (`negation`, `people`, `time`, `asking`): a negation
just before it, another sense of the words (`[senses]`, an `unless` pattern),
a finding that rules it out (`clears`), a what-if, a grown-up's or a pet's
sign, a past or resolved event, or a general question about nobody in
particular. When no rule fires, a classifier trained on reviewed example
messages gives a second opinion (`qa.safety.second_opinion`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.embedder import Embedder
from qa.records import RedFlag
from qa.safety.asking import TERSE_WORDS, asked_about, before_asking, open_to_resemblance
from qa.safety.banners import EMERGENCY_BANNER, URGENT_NOTICE
from qa.safety.fever import fever_verdict
from qa.safety.message import Message, Part, Span, parse
from qa.safety.negation import NEGATION_WINDOW, negated
from qa.safety.people import about_an_adult, not_a_person
from qa.safety.prefilter import RulePrefilter
from qa.safety.rules import Rule, RuleBook, load_rules
from qa.safety.second_opinion import DEFAULT_FEATURES, Example, SecondOpinion, load_examples
from qa.safety.text import WordFixer, canonical, preparer_fingerprint
from qa.safety.time import STILL_THERE, told_as_past

DENIED_THRESHOLD = 0.9
"""How sure the second opinion must be about a message that denies or rules out a sign ("not floppy, but ...")."""


@dataclass(frozen=True)
class Finding:
    concept: str
    tier: str
    sources: tuple[str, ...]


def _scan(rule: Rule, part: Part, recurs: bool) -> tuple[bool, list[Span], bool]:
    """Does the rule fire, and which of its matches did it judge benign (negated, another sense, asked
    about, told as past, a toy's or a pet's), and was one of them denied ("she's not floppy")? A match
    given to a grown-up is not judged benign: if that was wrong, the second opinion may still see it."""
    text = part.text
    matches = [match for pattern in rule.patterns for match in pattern.finditer(text)]
    if not matches:  # most rules, for most messages: their exceptions need not be read at all
        return False, [], False
    excluded = [m.span() for pattern in rule.unless for m in pattern.finditer(text)]
    judged: list[Span] = []
    denied = False
    for match in matches:
        overlaps = any(start < match.end() and match.start() < end for start, end in excluded)
        past = not recurs and told_as_past(text, match.span(), part.starts, resolved=not rule.over_ok)
        if negated(text, match):
            judged.append(_with_negation(text, match.span()))
            denied = True
        elif overlaps or past or asked_about(text, match):
            judged.append(match.span())
        elif not about_an_adult(text, match, part.history):
            return True, [], False
        elif not_a_person(text, match):
            judged.append(match.span())
    return False, judged, denied


def _with_negation(text: str, span: Span) -> Span:
    """The span widened back over the words that negate it, so the second opinion never reads a lone "not"."""
    start = span[0]
    for _ in range(NEGATION_WINDOW):
        previous = text.rfind(" ", 0, max(start - 1, 0))
        start = previous + 1 if previous >= 0 else 0
        if start == 0:
            break
    return start, span[1]


def _cleared(rule: Rule, text: str) -> bool:
    """A finding in the sentence rules the sign out ("purple from the beetroot"), unless it is negated or
    the sign is still there ("... but her lips are still blue")."""
    if STILL_THERE.search(text):
        return False
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
        features: str = DEFAULT_FEATURES,
    ) -> None:
        """`examples` replaces the reviewed bank (to measure the second opinion on a set it has not seen);
        `features` chooses what its classifier reads (`second_opinion.FEATURES`)."""
        self.book = book or load_rules()
        known = known_words | self.book.keep
        self._fix = WordFixer(self.book.spelling, self.book.lexicon, known)
        self._prefilter = RulePrefilter(self.book.rules)
        self.second_opinion: SecondOpinion | None = None
        if embedder is not None:
            bank = load_examples() if examples is None else examples
            # What `prepare` reads: a word model kept on disk is read back only under the same lists and code.
            # Only the reviewed bank's is kept: a measurement's bank with a set left out must not replace it.
            lists = [sorted(self.book.spelling.items()), sorted(self.book.lexicon), sorted(known)]
            prepared_by = preparer_fingerprint(lists) if examples is None else None
            self.second_opinion = SecondOpinion(
                embedder, bank, self.prepare, cache_dir=cache_dir, features=features, prepared_by=prepared_by
            )
        # A concept keeps its own tier and sources, whoever finds it.
        self._concepts = {rule.concept: Finding(rule.concept, rule.tier, rule.sources) for rule in self.book.rules}
        fever = self.book.fever
        self._concepts[fever.concept] = Finding(fever.concept, fever.tier, fever.sources)

    def prepare(self, message: str) -> str:
        return self._fix(canonical(message))

    def parse(self, message: str) -> Message:
        return parse(message, self.prepare, self.book.without_other_senses)

    def findings(self, message: str, vector: np.ndarray | None = None) -> list[Finding]:
        """`vector`: the message's embedding, if the caller has one (the second opinion then embeds nothing)."""
        parsed = self.parse(message)
        if parsed.asking_only:
            return []
        found: dict[str, Finding] = {}
        judged: list[Span] = []
        # After a sign ruled out by a finding ("purple from the beetroot") or denied ("she's not floppy at
        # all, kicking") the parent has answered the doubt: the second opinion must be surer to reopen it.
        cleared = denied_any = False
        for part in parsed.parts:
            judged = []
            could = self._prefilter.candidates(part.text)
            for number, rule in enumerate(self.book.rules):
                if rule.concept in found or (could is not None and number not in could):
                    continue
                fires, spans, denied = _scan(rule, part, parsed.recurs)
                denied_any |= denied
                if fires and rule.needs and not any(p.search(parsed.text) for p in rule.needs):
                    fires = False
                if fires and _cleared(rule, parsed.text if rule.over_ok else part.text):
                    fires, spans = False, [m.span() for p in rule.patterns for m in p.finditer(part.text)]
                    cleared = True
                if fires:
                    found[rule.concept] = self._concepts[rule.concept]
                judged += spans
        fever = self.book.fever
        fever_says = (
            fever_verdict(" ".join(map(before_asking, parsed.now)), fever, is_negated=negated, ages_in=parsed.text)
            if parsed.now
            else None
        )
        if fever_says:
            found[fever.concept] = self._concepts[fever.concept]
        # What the rules judged ("he's not floppy", "purple from the beetroot", the past) is no evidence for
        # the second opinion; it reads the rest of the message (the last part read is the whole message).
        unjudged = parsed.parts[-1].without(judged, keep=parsed.now) if parsed.parts else ""
        if not found and self.second_opinion is not None and open_to_resemblance(unjudged, parsed.text):
            terse = parsed.words <= TERSE_WORDS
            # A parent who denied a sign, or who tells of a movement normal in babies ("twitches as she
            # drifts off"), has answered part of the doubt: the second opinion must be surer to reopen it.
            normal = bool(self.book.normal.spans(parsed.text))
            surer = DENIED_THRESHOLD if denied_any or cleared or normal else None
            opinion = self.second_opinion.opinion(unjudged, terse, surer, vector)
            for concept in opinion.concepts if opinion is not None else ():
                if not (concept == fever.concept and fever_says is False):
                    found[concept] = self._concepts[concept]
        return list(found.values())

    def check(self, message: str, vector: np.ndarray | None = None) -> RedFlag:
        findings = self.findings(message, vector)
        if not findings:
            return RedFlag()
        emergency = any(f.tier == "emergency" for f in findings)
        return RedFlag(
            triggered=True,
            tier="emergency" if emergency else "urgent",
            terms=[f.concept for f in findings],
            banner=EMERGENCY_BANNER if emergency else URGENT_NOTICE,
        )
