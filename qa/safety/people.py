"""Whose sign is it? A grown-up's, a pet's or a toy's sign is not the baby's emergency.

"I've got a stiff neck", "my husband has a limp", "her doll wasn't breathing": the nearest person
named before the sign decides, and when in doubt it is the baby. Word lists come from the shared
lexicon (`qa/data/lexicon.toml`). Pure functions over the canonical text.
"""

from __future__ import annotations

import re

from qa.safety.lexicon import ANYONE, BODY, FIRST_PERSON, GENERIC, HE, MEN, OLDER, PETS, SHE, THEY, THINGS, TOYS, WOMEN
from qa.safety.lexicon import BABY as BABY_WORDS
from qa.safety.lexicon import split_words as _words

__all__ = ["ANIMALS", "BABY", "NOT_THE_BABY", "about_an_adult", "not_a_person"]


ANIMALS = PETS
NOT_THE_BABY = MEN | WOMEN | ANIMALS | TOYS | ANYONE | THINGS
"""Grown-ups, pets and toys: whoever else a sign may belong to ("her doll wasn't breathing")."""
BABY = BABY_WORDS | HE | SHE | THEY
_I_STATE = _words(
    "feel felt feeling have had got ve nearly almost completely totally so really am was a bit myself too also just"
    " and absolutely utterly literally shattered exhausted knackered tired get gets getting are is feels"
)
""""I" is the subject only of a state ("I feel completely limp", "I've got a stiff neck", "I nearly choked");
"I'm panicking, not breathing" and "I think not breathing" are about the baby."""
_SUBJECT_WINDOW = 15
_AFTER_WINDOW = 2
_OWN_THINGS = frozenset({"his", "their"})
"""A possessive right after the sign: "choked on his coffee" is the grown-up's coffee."""


def about_an_adult(text: str, match: re.Match[str], history: str = "") -> bool:
    """The sign belongs to someone else: a grown-up, a pet or a toy ("my husband has a limp").

    When in doubt it is the baby. The nearest person named before the match decides, unless the
    sentence named the baby first ("the baby was lying next to my mum and went grey"); "he" and
    "she" are the baby except in one narrow case (`_pronoun_is_a_grown_up`). A baby word in the
    match or just after it ("I can't wake her") keeps it about the baby.
    """
    before = text[: match.start()].split()[-_SUBJECT_WINDOW:]
    for distance, word in enumerate(reversed(before), start=1):
        earlier = before[:-distance]
        if word in BABY_WORDS and earlier[-1:] and earlier[-1] in OLDER:
            return _no_baby_near(text, match, word)  # "my older son has a stiff neck": not the baby
        if word in BABY_WORDS or (word == "one" and earlier[-1:] == ["little"]):
            return False
        if before[len(before) - distance + 1 : len(before) - distance + 2] == ["here"]:
            continue  # "Mum here, little one is gasping": the one writing
        if word in THEY and GENERIC & set(earlier):
            return True  # "babies shouldn't sleep on their tummy because they stop breathing": babies in general
        if word in BABY:
            return _pronoun_is_a_grown_up(word, earlier, history) and _no_baby_near(text, match, word)
        owner = word[:-1] if word.endswith("s") and word[:-1] in NOT_THE_BABY else word  # "my husband's neck"
        if owner in TOYS | THINGS | ANIMALS and earlier[-1:] == ["little"]:
            return False  # "our little bunny has gone grey": a pet name for the baby
        if owner in NOT_THE_BABY and "like" not in earlier[-2:]:  # not "panting like a dog"
            # "The baby was lying next to my mum and went grey": the sentence is about the baby named first
            # (but "my daughter put her doll to bed ... it wasn't breathing" is the doll).
            baby_first = owner not in ANIMALS | TOYS and BABY_WORDS & set(earlier)
            return not baby_first and _no_baby_near(text, match, owner)
        between = before[len(before) - distance + 1 :]
        # "my arms are floppy" is the parent; "lying in my arms floppy" is the baby.
        placed = earlier[-1:] and earlier[-1] in _PLACES
        my_body = word == "my" and not placed and (distance == 1 or bool(between[:1] and between[0] in BODY))
        if word in FIRST_PERSON or my_body:  # "my lips are purple from the berries", "my arms are floppy"
            between = between[1:] if my_body and distance > 1 else between
            if all(w in _I_STATE for w in between) and not BABY_WORDS & set(earlier):
                return _no_baby_near(text, match, "i")
    return False


_PLACES = _words("in on onto against across over into under at")
_THING_LINKS = _words(
    "is are was were has have had gone keeps kept went got its been all a bit just s ears ear eyes legs head now"
    " really very so quite"
)


def not_a_person(text: str, match: re.Match[str]) -> bool:
    """A toy, a device or a pet is the subject of the sign ("her doll wasn't breathing", "the app keeps
    seizing up", "bunny's ears have gone floppy"): clearly nobody's emergency, so not even the second
    opinion reads it. Only right before the sign, with nothing but links between, and never a pet name
    for the baby ("my little bear is fitting")."""
    before = text[: match.start()].split()[-6:]
    for distance, word in enumerate(reversed(before), start=1):
        owner = word[:-1] if word.endswith("s") and word[:-1] in NOT_THE_BABY else word
        if owner in TOYS | THINGS | ANIMALS:
            earlier = before[: len(before) - distance]
            return earlier[-1:] != ["little"]
        if word not in _THING_LINKS:
            return False
    return False


def _pronoun_is_a_grown_up(pronoun: str, earlier: list[str], history: str) -> bool:
    """ "My husband has epilepsy. He had a seizure this morning": the sentence starts with the pronoun,
    an earlier sentence named a grown-up of the same sex, and nothing since points at a baby. ("My wife
    says her lips are blue" stays the baby: when in doubt, it is.)"""
    if earlier or pronoun not in HE | SHE:
        return False
    named = history.split()
    people = MEN if pronoun in HE else WOMEN
    for i in range(len(named) - 1, -1, -1):
        if named[i] in people:
            since = set(named[i + 1 :])
            return not since & (BABY - HE - SHE) and not since & (HE | SHE)
        if named[i] in BABY:
            return False
    return False


_SUBJECTS = _words("he she hes shes they theyre")
"""After the sign a subject pronoun starts a new clause ("Dad went grey when he saw the fees")."""


def _no_baby_near(text: str, match: re.Match[str], owner: str) -> bool:
    """No baby word in the match or just after it, other than the grown-up's own ("mum bumped her head")."""
    inside = match.group(0).split()
    after = inside + text[match.end() :].split()[: _AFTER_WINDOW + 1]
    near = after[: len(inside) + _AFTER_WINDOW]
    theirs = HE if owner in MEN else SHE if owner in WOMEN else frozenset()
    return not any(
        w in BABY and w not in theirs and not _own_thing(after, i) and (i < len(inside) or w not in _SUBJECTS)
        for i, w in enumerate(near)
    )


def _own_thing(words: list[str], i: int) -> bool:
    return words[i] in _OWN_THINGS and i + 1 < len(words) and words[i + 1] not in BODY
