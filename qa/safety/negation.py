"""Is a matched sign negated? ("her lips aren't blue", "never lost consciousness").

A negation (or a what-if word) just before the sign sets it aside, but only when the words between
are links ("aren't at all blue"): in "not feeding, floppy" the "not" belongs to "feeding", and a
negation never reaches over a clause break. Pure functions over the canonical text.
"""

from __future__ import annotations

import re

from qa.safety.lexicon import CLAUSE_BREAKS, HYPOTHETICAL, NEGATORS
from qa.safety.lexicon import split_words as _words

__all__ = ["HYPOTHETICAL", "NEGATION_WINDOW", "NEGATORS", "negated"]


NEGATION_WINDOW = 3
_NEGATION_IN = re.compile(r"\b(?:" + "|".join(sorted(NEGATORS)) + r"|wont|cant|cannot|stop\w*|unable)\b")
_LINKS = _words(
    "is are was were be been being very so too at all really that a an any look looks looking seem seems seemed"
    " go gone going went turn turned turning get getting got even remotely particularly as quite bit the his her"
    " their actually currently yet he she it they hes shes its if whether ever have has had got"
    " baby my our son daughter lo little one"
)


def negated(sentence: str, match: re.Match[str]) -> bool:
    """A negation or what-if just before the match, or inside it when the rule itself has no negation.

    "lips aren't blue" and "soft spot isn't bulging" are negated; "rash doesn't fade" is the sign itself.
    """
    before = _after_last_break(sentence[: match.start()].split()[-NEGATION_WINDOW:])
    for i, word in enumerate(before):
        # "lips aren't at all blue" is negated; in "not feeding, floppy" the "not" belongs to "feeding".
        if (word in NEGATORS or word in HYPOTHETICAL) and all(w in _LINKS for w in before[i + 1 :]):
            return True
    inside = _after_last_break(match.group(0).split()[1:-1][-NEGATION_WINDOW:])
    return any(word in NEGATORS for word in inside) and not _negation_in(match.re)


def _after_last_break(words: list[str]) -> list[str]:
    breaks = [i for i, word in enumerate(words) if word in CLAUSE_BREAKS]
    return words[breaks[-1] + 1 :] if breaks else words


_ESCAPES = re.compile(r"\\[bBwWdDsS]")


def _negation_in(pattern: re.Pattern[str]) -> bool:
    """Does the rule itself spell a negation? ("\\bnever happened" counts: escapes are not letters.)"""
    return bool(_NEGATION_IN.search(_ESCAPES.sub(" ", pattern.pattern)))
