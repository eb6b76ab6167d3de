"""Is the message asking rather than telling? What-ifs, curiosity and general questions.

"What should I do if she stops breathing?" asks about a sign nobody has seen; "what do febrile
seizures look like?" is about nobody in particular; "just want to know for the future" frames the
whole message as curiosity. A what-if reaches only forward: in "he's not breathing, what do I do if
he goes blue" the first sign stands. Pure functions over the canonical text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.safety.lexicon import STORIES, TOPICS
from qa.safety.people import ANIMALS
from qa.safety.time import CHECKED, PRESENT

__all__ = [
    "TERSE_WORDS",
    "asked_about",
    "bare_topic",
    "before_asking",
    "framed_as_curiosity",
    "general_question",
    "general_questions",
    "is_information_question",
    "open_to_resemblance",
]


_FRAMED = re.compile(
    r"\b(?:just (?:want|wanted|wanting) to know|for (?:the )?future|just curious|out of curiosity|out of interest"
    r"|hypothetically|for reference|reading up|reading about|just reading|researching|learning about"
    r"|general knowledge|general question|asking for a friend|asking for (?:my|an|our) (?:\w+ )?(?:class|course|group)"
    r"|not born yet|antenatal|(?:cpr|first aid|resus\w*) (?:training|course|class|session))\b"
)
"""A whole message framed as curiosity ("just want to know for the future"), when nothing in it is now."""
_WHAT_IF = re.compile(
    r"\b(?:what (?:do|should|would|could) (?:i|we|you) do (?:if|when|should)|what if|what happens if"
    r"|if (?:\w+ ){0,5}ever"
    r"|in case (?:he|she|they|(?:(?:my|our|the) )?(?:baby|son|daughter|boy|girl|lo|little one))"
    r"(?= (?:\w+ ){0,2}(?:ever|starts?|stops?|goes|go|turns?"
    r"|gets?|has|have|does|needs?)\b)|(?:should|were) (?:he|she|they|baby|the baby|my baby|it) ever|god forbid"
    r"|how (?:do|can|would|should) (?:i|we|you) (?:tell|know|spot|recogni[sz]e)|in case of|what would (?:a|an|it mean)"
    r"|what (?:does|do)(?= (?:\w+ ){1,4}mean\b)"
    r"|what (?:does|would|could|might) it mean (?:if|when)"
    # "if he has a fit in the bath one day, how do I get him out?": a condition, then a question
    r"|(?:^|(?:and|but|so) )if(?= (?:\w+ ){1,12}(?:how|what|when|should|can|do|would)"
    r" (?:do |should |would |can |to )?(?:i|we|you)\b))"
    r"\b"
)
"""What follows these is asked about, not seen: "what should I do if she stops breathing?". They never
reach back: in "he's not breathing, what do I do if he goes blue" the first sign stands."""


_NEW_CLAUSE = re.compile(r"\b(?:hes|shes|theyre|its|but|now)\b")


_STORY = re.compile(
    r"\b(?:"
    + "|".join(sorted(STORIES))
    + r")s? (?:\w+ ){0,5}?(?:where|about|in which|(?:has|had) an? (?:baby|child|kid|newborn|character)"
    r"|an? (?:baby|child|kid|newborn|character) (?:has|had|is|was|stops|stopped|goes|went))\b"
    r"|(?:^|\b(?:i|we) (?:\w+ )?)(?:read|heard|was told|were told|learned|learnt) (?:\w+ ){0,3}?(?:that|about)\b"
    r"|\b(?:they|people|everyone|doctors) (?:say|said|says) (?:that )?(?:if|a|an|when)\b"
)
"""Told in a story or as hearsay, not seen: "a film where a baby stopped breathing", "I read that a rash
that doesn't fade is serious". Like a what-if, it reaches only to the end of its clause and never over
anything that is now: in "they say if it lasts 5 minutes call 999, it's been 8 minutes" the sign stands."""


def framed_as_curiosity(text: str) -> bool:
    return bool(_FRAMED.search(text)) and not PRESENT.search(text)


def asked_about(text: str, match: re.Match[str]) -> bool:
    """After a what-if in the same clause, or in a sentence framed as curiosity."""
    if framed_as_curiosity(text):
        return True
    stories = _STORY.finditer(text)
    if any(_reaches(text, story, match) and not PRESENT.search(text, story.start(), match.end()) for story in stories):
        return True
    return any(_reaches(text, asking, match) for asking in _WHAT_IF.finditer(text))


def _reaches(text: str, asking: re.Match[str], match: re.Match[str]) -> bool:
    """The what-if (or story) comes before the sign, in its clause, with nothing between that is now
    ("so if the fit has lasted 10 minutes what do I do, lips going blue": the sign stands)."""
    between = (asking.end(), match.start())
    return asking.end() <= match.start() and not (_NEW_CLAUSE.search(text, *between) or PRESENT.search(text, *between))


def before_asking(text: str) -> str:
    asking = _WHAT_IF.search(text)
    return text[: asking.start()] if asking else text


_WH_START = re.compile(r"^\s*(?:what|whats|wat|wot|how|hows|why|which|difference)\b")
_AUX_START = re.compile(r"^\s*(?:when|who|can|could|does|do|is|are|should|will|would|any)\b")
_PERSONAL = re.compile(
    r"\b(?:my|our|me|i|im|ive|id|we|us|he|she|hes|shes|him|her|his|hers|son|daughter|lo|right now|currently"
    r"|mine|this|these|now|still)\b"
)


def general_question(sentence: str, asked: bool = False) -> bool:
    """ "What is apnoea of prematurity?": a question about nobody in particular (`asked`: it ended in "?")."""
    starts = _WH_START.match(sentence) or (asked and _AUX_START.match(sentence))
    return bool(starts) and not _PERSONAL.search(sentence)


_AN_AGE = re.compile(r"\ba \d+ ?(?:months?|weeks?|wks?|days?|mo) old\b")


def general_questions(sentences: Sequence[str], asked: bool) -> list[bool]:
    """Which sentences are general questions, read together: "Is it normal for a 6 month old to do repeated
    sit-ups on waking? He looks startled": beside a sentence about a baby, "a 6 month old" is that baby."""
    general = [general_question(sentence, asked) for sentence in sentences]
    personal = not all(general)
    return [
        flag and not (personal and _AN_AGE.search(sentence)) for flag, sentence in zip(general, sentences, strict=True)
    ]


def is_information_question(text: str, parts: list[str]) -> bool:
    """Every sentence asks, about nobody in particular ("what do febrile seizures look like?").

    `parts` are the sentences of `text`; "is this spasms? eyes roll up, body tenses" describes a baby.
    """
    asked = "?" in text
    return framed_as_curiosity(text) or (bool(parts) and all(general_question(part, asked) for part in parts))


# The second opinion is the "in doubt" layer; these take the doubt away (the rules still apply in full).
_ANIMAL = re.compile(r"\b(?:" + "|".join(sorted(ANIMALS)) + r")\b")
_REASSURED = re.compile(
    CHECKED + r"|\bwhen (?:do|will|should|does|can) (?:they|babies|he|she|it|baby|my baby) (?:\w+ )?"
    r"(?:get|start|learn|be able)\b"
    r"|\bsleeps? (?:all )?(?:the way )?through\b|\b(?:feeding|eating|drinking|breathing|sleeping) "
    r"(?:fine|well|normally|ok|okay)\b|\bgood colou?r\b|"
    r"\b(?:is|seems|was|s|shes|hes|theyre|been) (?:\w+ )?(?:fine|ok|okay|well|thriving|happy|settled|playing)\b"
    r"|\b(?:woke|wakes?) (?:up )?(?:happy|smiling)|\bfeeding well|\bback to (?:normal|herself|himself)"
    r"|\b(?:haha\w*|giggl\w*|grinning|first steps|first tooth|came up (?:smiling|laughing|happy|fine))\b"
    r"|\b(?:loved|loves|enjoyed|enjoys) (?:it|every)|\bhad (?:a great time|fun)"
    r"|\bhappy (?:all day|in (?:him|her|them)self|otherwise)|\b(?:stable|recovering|on the mend) now\b"
    r"|\b(?:naps?|napping|sleep regression|waking every|wakes? (?:up )?every|bedtime|night wakings?)\b"
    r"|(?<!stopped )(?<!not )\b(?:smiling|laughing) (?:away|again|at)\b"
    r"|\b(?:she|he|they|baby) (?:then )?(?:settles|calms(?: down)?|goes back to sleep|carries on)\b"
)


def bare_topic(text: str) -> bool:
    """ "febrile seizures", "infantile spasms?": a short message naming a topic, not a state of a child."""
    words = text.split()
    return len(words) <= 4 and all(word in TOPICS for word in words)


TERSE_WORDS = 4
"""A message of at most this many words is terse: "lips dusky", "fitting 10 mins"."""


def open_to_resemblance(unjudged: str, message: str) -> bool:
    """May the second opinion read `unjudged` (what the rules left of `message`)? A description of a baby:
    five words or more of it, or a whole terse message the rules did not judge ("lips dusky") that is
    not a bare topic; never a message that is reassuring, about a pet, or a what-if. (What is left of a
    longer message after the rules judged it, "his", is no description.)"""
    words = unjudged.split()
    terse = len(message.split()) <= TERSE_WORDS and len(words) == len(message.split())
    return (
        (len(words) > TERSE_WORDS or (terse and not bare_topic(unjudged)))
        and not _ANIMAL.search(message)
        and not _REASSURED.search(message)
        and not _WHAT_IF.search(message)
    )
