"""The shared vocabulary of the red-flag layer, loaded once from `qa/data/lexicon.toml`.

One list per idea (the baby's words, grown-ups, pets, body parts, negation, time), read by the rules
(as macros), the context checks and the fever check alike, so a word added for one is known to all.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

LEXICON_FILE = Path(__file__).resolve().parent.parent / "data" / "lexicon.toml"


@cache
def _raw() -> dict[str, dict[str, list[str]]]:
    with LEXICON_FILE.open("rb") as handle:
        return tomllib.load(handle)


def words(group: str, name: str) -> frozenset[str]:
    """One list of the lexicon, e.g. `words("people", "baby")`."""
    return frozenset(_raw()[group][name])


def split_words(text: str) -> frozenset[str]:
    """A short in-module word list ("is are was ...") as a set."""
    return frozenset(text.split())


def macros() -> dict[str, str]:
    """Every list as a rule macro: `[body] visible` becomes `{BODY_VISIBLE}` = `(?:lips|lip|face|...)`."""
    return {
        f"{group}_{name}".upper(): "(?:" + "|".join(sorted(entries, key=lambda w: (-len(w), w))) + ")"
        for group, lists in _raw().items()
        for name, entries in lists.items()
    }


BABY = words("people", "baby")
HE, SHE, THEY = words("people", "he"), words("people", "she"), words("people", "they")
GENERIC = words("people", "generic")
FIRST_PERSON = words("people", "first_person")
MEN, WOMEN, ANYONE = words("people", "men"), words("people", "women"), words("people", "anyone")
PETS, TOYS = words("people", "pets"), words("people", "toys")
THINGS, STORIES = words("things", "devices"), words("things", "stories")
OLDER = words("people", "older")
GROWN_UPS = MEN | WOMEN | ANYONE
BODY = words("body", "parts")
NEGATORS = words("negation", "words")
HYPOTHETICAL = words("negation", "hypothetical")
CLAUSE_BREAKS = words("negation", "clause_breaks")
RECOVERED = words("time", "recovered")
TOPICS = words("topics", "words")
