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

import re
from dataclasses import dataclass
from pathlib import Path

from qa.embedder import Embedder
from qa.records import RedFlag
from qa.safety.banners import EMERGENCY_BANNER, URGENT_NOTICE
from qa.safety.examples import ExampleMatcher, load_examples
from qa.safety.fever import fever_verdict
from qa.safety.rules import Rule, RuleBook, load_rules
from qa.safety.text import WordFixer, canonical, sentences

NEGATORS = frozenset(
    "not no never isnt arent wasnt werent doesnt dont didnt hasnt havent hadnt without nor neither".split()  # noqa: SIM905
)
HYPOTHETICAL = frozenset({"if", "whether"})
"""Just before a match, these make it a what-if ("how can I tell if he is having a seizure")."""
_NEGATION_WINDOW = 3
_MIN_WORDS_FOR_EXAMPLES = 5
"""Resemblance needs a description: a keyword ("fits", "breathing") is a topic, not an emergency."""
# Resemblance is the "in doubt" layer; these take the doubt away (the rules still apply in full).
_ANIMAL = re.compile(r"\b(?:dogs?|pupp(?:y|ies)|cats?|kittens?|labrador|pets?|vet|rabbit|hamster|horse)\b")
_REASSURED = re.compile(
    r"\b(?:is|seems|was|s|shes|hes|theyre|been) (?:\w+ )?(?:fine|ok|okay|well|thriving|happy|settled|playing)\b"
    r"|\bwoke (?:up )?happy|\bfeeding well|\bback to (?:normal|herself|himself)"
    r"|\b(?:she|he|they|baby) (?:then )?(?:settles|calms(?: down)?|goes back to sleep|carries on)\b"
)
_PAST = re.compile(
    r"(?<!since )\blast (?:week|month|year|summer|winter|spring|autumn|fall|christmas|time)\b"
    r"|\b(?:\d+|a|few|several|couple of) (?:days?|weeks?|months?|years?) ago\b"
    r"|\bwhen (?:he|she|they) (?:was|were) (?:a )?(?:baby|newborn|younger|little|tiny)\b"
    r"|(?<!no )\bhistory of\b|\bin the past\b|\b(?:been|was|is|hes|shes) (?:\w+ )?fine (?:ever )?since\b"
    # Resolved at once or a false alarm: "coughed it out and was totally fine", "it was just the monitor".
    r"|\b(?:was|were|is|seemed|has been) (?:totally |completely |perfectly |absolutely )?(?:fine|ok|okay|normal)"
    r" (?:straight away|right away|afterwards|after|since|the whole time)\b|\bbut it was (?:just|only)\b"
    r"|\bturned out\b|\bfalse alarm\b|\b(?:home and )?thriving\b"
    r"|\b(?:yesterday|last night)\b.{0,80}\b(?:was|is|seemed) (?:\w+ )?(?:fine|ok|okay|normal)\b"
)
_PRESENT = re.compile(
    r"\b(?:right now|currently|at the moment|again|still|today|tonight|this morning|just now|anymore|any more"
    r"|no longer|lately"
    r"|(?:and|but) now"
    r"|now (?:he|she|they|hes|shes|its|theyre)\b"
    r"(?! (?:is |s )?(?:\d|well|fine|ok|okay|thriving|healthy|good|great|better)))"
)
_JUST_ASKING = re.compile(
    r"\b(?:just (?:want|wanted|wanting) to know|for (?:the )?future|just in case|in case|just curious|out of curiosity"
    r"|hypothetically|for reference|what (?:do|should) (?:i|we|you) do if|what if|reading up|reading about|researching"
    r"|learning about|just wondering|just checking|just asking|general knowledge|general question|out of interest"
    r"|asking for a friend"
    r"|how (?:do|can|would|should) (?:i|we|you) (?:tell|know|spot|recogni[sz]e))\b"
)
_WH_START = re.compile(r"^\s*(?:what|whats|how|hows|why|which|difference)\b")
_AUX_START = re.compile(r"^\s*(?:when|who|can|could|does|do|is|are|should|will|would|any)\b")
_PERSONAL = re.compile(
    r"\b(?:my|our|me|i|im|ive|id|we|us|he|she|hes|shes|him|her|his|hers|son|daughter|lo|right now|currently)\b"
)
@dataclass(frozen=True)
class Finding:
    concept: str
    tier: str
    sources: tuple[str, ...]


def _negated(sentence: str, match: re.Match[str]) -> bool:
    """A negation or what-if just before the match, or inside it when the rule itself has no negation.

    "lips aren't blue" and "soft spot isn't bulging" are negated; "rash doesn't fade" is the sign itself.
    """
    before = sentence[: match.start()].split()[-_NEGATION_WINDOW:]
    if any(word in NEGATORS or word in HYPOTHETICAL for word in before):
        return True
    inside = match.group(0).split()[1:]
    return any(word in NEGATORS for word in inside) and not _NEGATION_IN.search(match.re.pattern)


_ADULT_WORDS = (
    "i im ive id myself husband wife partner mum mom mummy mommy dad daddy mother father grandma granny nan nana"
    " grandad grandpa grandmother grandfather auntie uncle friend colleague boss"
    " dog puppy cat kitten labrador pet rabbit hamster horse"
)
_BABY_WORDS = (
    "baby babys he she hes shes him her his son daughter lo newborn infant toddler child kid bub bubs little"
    " one they theyre them twins"
)
_ADULTS = frozenset(_ADULT_WORDS.split())
_BABY = frozenset(_BABY_WORDS.split())
_SUBJECT_WINDOW = 6


def _about_an_adult(text: str, match: re.Match[str]) -> bool:
    """The sign belongs to a grown-up ("I nearly choked on my coffee", "my husband has a limp").

    The nearest person named before the match decides; a baby word in the match or just after it
    ("I can't wake her") keeps it about the baby.
    """
    for word in reversed(text[: match.start()].split()[-_SUBJECT_WINDOW:]):
        if word in _BABY:
            return False
        if word in _ADULTS:
            after = match.group(0).split() + text[match.end() :].split()[:3]
            return not any(w in _BABY for w in after)
    return False


def _matches(rule: Rule, text: str) -> bool:
    excluded = [m.span() for pattern in rule.unless for m in pattern.finditer(text)]
    for pattern in rule.patterns:
        for match in pattern.finditer(text):
            overlaps = any(start < match.end() and match.start() < end for start, end in excluded)
            if not overlaps and not _negated(text, match) and not _about_an_adult(text, match):
                return True
    return False


_NEGATION_IN = re.compile(r"\b(?:" + "|".join(sorted(NEGATORS)) + r"|wont|cant|cannot|stop\w*|unable)\b")


def _distant_past(sentence: str) -> bool:
    return bool(_PAST.search(sentence)) and not _PRESENT.search(sentence)


def _general_question(sentence: str) -> bool:
    return bool(_WH_START.match(sentence)) and not _PERSONAL.search(sentence)


def is_information_question(text: str, parts: list[str]) -> bool:
    """A general question ("what do febrile seizures look like?") that is about nobody in particular.

    `parts` are the sentences of `text`.
    """
    if _JUST_ASKING.search(text) and not _PRESENT.search(text):
        return True
    # Every sentence must ask: "is this spasms? eyes roll up, body tenses" describes a baby, it doesn't ask.
    asks = all(_WH_START.match(part) or (_AUX_START.match(part) and "?" in text) for part in parts)
    return bool(parts) and asks and not _PERSONAL.search(text)


class RedFlagDetector:
    """Rules first; when none fires, the example bank's second opinion (if an embedder is given)."""

    def __init__(
        self,
        book: RuleBook | None = None,
        known_words: frozenset[str] = frozenset(),
        embedder: Embedder | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.book = book or load_rules()
        self._fix = WordFixer(self.book.spelling, self.book.lexicon, known_words)
        self._examples: ExampleMatcher | None = None
        if embedder is not None:
            self._examples = ExampleMatcher(embedder, load_examples(), self.prepare, cache_dir=cache_dir)
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
        now = not _distant_past(flat)
        found: dict[str, Finding] = {}
        # Each sentence alone, then the whole message: signs are often told across sentences
        # ("had what looked like a fit?? never happened before").
        # Sentences that are past events or general questions ("what is apnoea of prematurity?") are
        # not about now; the rest are read alone, then together.
        parts = [part for part in all_sentences if not _distant_past(part) and not _general_question(part)]
        if len(parts) > 1 and now:
            parts.append(" ".join(parts))
        for part in parts:
            for rule in self.book.rules:
                if rule.concept in found or any(p.search(part) for p in rule.clears):
                    continue
                if _matches(rule, part):
                    found[rule.concept] = self._concepts[rule.concept]
        fever = self.book.fever
        fever_says = fever_verdict(flat, fever, is_negated=_negated) if now else None
        if fever_says:
            found[fever.concept] = self._concepts[fever.concept]
        if (
            not found
            and self._examples is not None
            and parts
            and now
            and len(flat.split()) >= _MIN_WORDS_FOR_EXAMPLES
            and not _ANIMAL.search(flat)
            and not _REASSURED.search(flat)
        ):
            opinion = self._examples.opinion(message)
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
