"""Is a matched sign about this baby, now? The context checks the detector applies to every match.

A pattern finds words ("blue lips", "a fit", "not breathing"); these functions decide whether the
words describe an emergency in front of the parent: not negated ("her lips aren't blue"), not a
what-if ("how can I tell if he is having a seizure"), not a grown-up's or a pet's ("I choked on my
coffee"), not long past or already resolved ("last year, fine since"), not a general question
("what do febrile seizures look like?"). Each check errs towards firing: it sets a match aside only
for a clear reason. Pure functions over the canonical text (`qa.safety.text.canonical`).
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


NEGATORS = _words("not no never isnt arent wasnt werent doesnt dont didnt hasnt havent hadnt without nor neither")
HYPOTHETICAL = frozenset({"if", "whether"})
"""Just before a match, these make it a what-if ("how can I tell if he is having a seizure")."""
_NEGATION_WINDOW = 3
_NEGATION_IN = re.compile(r"\b(?:" + "|".join(sorted(NEGATORS)) + r"|wont|cant|cannot|stop\w*|unable)\b")


def negated(sentence: str, match: re.Match[str]) -> bool:
    """A negation or what-if just before the match, or inside it when the rule itself has no negation.

    "lips aren't blue" and "soft spot isn't bulging" are negated; "rash doesn't fade" is the sign itself.
    """
    before = sentence[: match.start()].split()[-_NEGATION_WINDOW:]
    if any(word in NEGATORS or word in HYPOTHETICAL for word in before):
        return True
    # "soft spot isn't bulging" is negated; in "soft bit isn't dipped like it normally is, it's raised" the
    # negation is too far from the sign at the end.
    inside = match.group(0).split()[1:][-_NEGATION_WINDOW - 1 :]
    return any(word in NEGATORS for word in inside) and not _negation_in(match.re)


_ESCAPES = re.compile(r"\\[bBwWdDsS]")


def _negation_in(pattern: re.Pattern[str]) -> bool:
    """Does the rule itself spell a negation? ("\\bnever happened" counts: escapes are not letters.)"""
    return bool(_NEGATION_IN.search(_ESCAPES.sub(" ", pattern.pattern)))


FIRST_PERSON = _words("i im ive id myself")
_MEN = _words("husband dad daddy father grandad grandpa grandfather uncle boyfriend brother stepdad")
_WOMEN = _words("wife mum mom mummy mommy mother grandma granny nan nana grandmother auntie girlfriend sister")
_ANIMALS = _words(
    "dog dogs puppy cat cats kitten labrador spaniel terrier retriever collie poodle pug beagle dachshund"
    " pet rabbit hamster horse"
)
GROWN_UPS = _MEN | _WOMEN | _ANIMALS | _words("partner friend colleague boss")
_HE, _SHE = _words("he hes him his"), _words("she shes her hers")
BABY = _words(
    "baby babys son daughter lo newborn infant toddler child kid bub bubs little one twins"
) | _HE | _SHE | _words("they theyre them")
_SUBJECT_WINDOW = 15
_PRONOUN_WINDOW = 8
_I_WINDOW = 3
""""I" is the subject only right before the sign ("I feel sick"); further back it is the one asking
("should I worry that the blotches don't fade"), and "I noticed the soft spot" is about the baby."""
_THE_BABYS = _words("the his her their its")
_AFTER_WINDOW = 2
_OWN_THINGS = frozenset({"his", "their"})
"""A possessive right after the sign: "choked on his coffee" is the grown-up's coffee."""
_BODY = _words(
    "head face lips mouth tongue skin body chest tummy belly neck back arm arms leg legs hand hands foot feet eyes side"
)


def about_an_adult(text: str, match: re.Match[str], history: str = "") -> bool:
    """The sign belongs to a grown-up or a pet ("I nearly choked on my coffee", "my husband has a limp").

    The nearest person named before the match decides; "he" and "she" are whoever was named last
    (in `history`, the message before this sentence, too): "my husband has epilepsy. He had a fit".
    A baby word in the match or just after it ("I can't wake her") keeps it about the baby.
    """
    before = text[: match.start()].split()[-_SUBJECT_WINDOW:]
    for distance, word in enumerate(reversed(before), start=1):
        if word in BABY and distance <= _PRONOUN_WINDOW:
            if not _a_grown_up_named_last(word, (history + " " + " ".join(before[:-distance])).split()):
                return False
            return _no_baby_near(text, match)
        grown_up = word in GROWN_UPS or (word.endswith("s") and word[:-1] in GROWN_UPS)  # "my husband's neck"
        if grown_up and "like" not in before[-distance - 2 : -distance]:  # not "panting like a dog"
            return _no_baby_near(text, match)
        if word in FIRST_PERSON and distance <= _I_WINDOW and not _THE_BABYS & set(before[-distance:]):
            return _no_baby_near(text, match)
    return False


_AGE = re.compile(r"\b\d+ ?(?:days?|weeks?|wks?|months?|mos?|mths?)\b")


def _a_grown_up_named_last(pronoun: str, words_before: list[str]) -> bool:
    """Is "he"/"she" a grown-up of the right sex named earlier, in a message that names no baby before it?

    When in doubt it is the baby: "he's 15 months ... my husband pulled him out. He's coughing".
    """
    if pronoun not in _HE | _SHE or _AGE.search(" ".join(words_before)):
        return False
    people = _MEN | _ANIMALS if pronoun in _HE else _WOMEN | _ANIMALS
    if any(word in BABY - _HE - _SHE for word in words_before):
        return False
    for word in reversed(words_before):
        if word in GROWN_UPS:
            return word in people or word in _words("partner friend colleague boss")
    return False


def _no_baby_near(text: str, match: re.Match[str]) -> bool:
    inside = match.group(0).split()
    after = inside + text[match.end() :].split()[: _AFTER_WINDOW + 1]
    near = after[: len(inside) + _AFTER_WINDOW]
    return not any(w in BABY and not _own_thing(after, i) for i, w in enumerate(near))


def _own_thing(words: list[str], i: int) -> bool:
    return words[i] in _OWN_THINGS and i + 1 < len(words) and words[i + 1] not in _BODY


_PAST = re.compile(
    r"(?<!since )(?<!did )(?<!like )\blast (?:week|month|year|summer|winter|spring|autumn|fall|christmas|time"
    r"|january|february|march|april|may|june|july|august|september|october|november|december)\b"
    r"|\b(?:was|were) (?:\d+|a few) (?:days?|weeks?|months?) (?:old )?then\b"
    r"|(?<!did )(?<!was )\b(?:\d+|a|few|several|couple of) (?:days?|weeks?|months?|years?) ago\b"
    r"|\bwhen (?:he|she|they) (?:was|were) (?:a )?(?:baby|newborn|younger|little|tiny)\b"
    r"|(?<!no )\bhistory of\b|\bin the past\b(?! (?:\d+ |few |couple of )?(?:hours?|minutes?|half hour|days?))"
    r"|\b(?:been|was|is|hes|shes) (?:\w+ )?fine (?:ever )?since\b"
)
_RESOLVED = re.compile(
    # Resolved at once or a false alarm: "coughed it out and was totally fine", "it was just the monitor".
    r"\b(?:was|were|is|seemed|has been) (?:totally |completely |perfectly |absolutely )?(?:fine|ok|okay|normal)"
    r" (?:straight away|right away|afterwards|after|since|the whole time)\b|\bbut it was (?:just|only)\b"
    r"|\bturned out\b|\bfalse alarm\b|\b(?:home and )?thriving\b"
    r"|\b(?:yesterday|last night)\b.{0,80}\b(?:was|is|seemed) (?:\w+ )?(?:fine|ok|okay|normal)\b"
    r"|\b(?:seconds|moments?|a minute) later (?:\w+ ){0,2}(?:was|is|were) (?:\w+ )?"
    r"(?:fine|ok|okay|normal|laughing|smiling)"
    r"|\b(?:coughed|spat|brought|sicked|cleared) (?:it |them |the \w+ )?(?:up|out) (?:\w+ )?(?:straight away|right away"
    r"|immediately|at once|quickly|by (?:him|her)self)"
    r"|\bcarried on (?:feeding|playing|smiling|happily|happy|as normal)"
    r"|\b\d+ (?:months?|weeks?|years?) (?:old )?now and (?:\w+ )?(?:fine|well|healthy|thriving)\b"
)
_PRESENT = re.compile(
    r"\b(?:right now|currently|at the moment|still|today|tonight|this (?:morning|afternoon|evening)|just now"
    r"|anymore|any more|no longer|lately|started|starting|began|begun"
    r"|(?:and|but) now"
    r"|now (?:he|she|they|hes|shes|its|theyre)\b"
    r"(?! (?:is |s )?(?:\d|well|fine|ok|okay|thriving|healthy|good|great|better)))"
    # "again" is now ("it happened again"), but "laughing again" is recovery.
    r"|(?<!laughing )(?<!smiling )(?<!playing )(?<!feeding )(?<!herself )(?<!himself )(?<!normal )\bagain\b"
)


_RECURS = re.compile(r"\b(?:again|still (?:happening|going|doing it)|keeps? (?:happening|doing (?:it|this|that)))\b")


def brought_back(text: str) -> bool:
    """"It happened again today": a past description is about now after all."""
    return bool(_RECURS.search(text))


def about_the_past(sentence: str) -> bool:
    """Long ago or already over, with nothing that brings it back to now."""
    return bool(_PAST.search(sentence) or _RESOLVED.search(sentence)) and not _PRESENT.search(sentence)


_JUST_ASKING = re.compile(
    r"\b(?:just (?:want|wanted|wanting) to know|for (?:the )?future|just in case|in case|just curious|out of curiosity"
    r"|hypothetically|for reference|what (?:do|should) (?:i|we|you) do if|what if|reading up|reading about|researching"
    r"|learning about|just wondering|just checking|just asking|general knowledge|general question|out of interest"
    r"|asking for (?:a |my )(?:\w+ )?(?:friend|class|course|sister|brother|cousin|colleague|neighbour|mum|group)"
    r"|if (?:\w+ ){0,5}ever|not born yet|antenatal|(?:im|i am) pregnant|when (?:\w+ )?(?:arrives|is born)"
    r"|how (?:do|can|would|should) (?:i|we|you) (?:tell|know|spot|recogni[sz]e))\b"
)
_WH_START = re.compile(r"^\s*(?:what|whats|wat|wot|how|hows|why|which|difference)\b")
_AUX_START = re.compile(r"^\s*(?:when|who|can|could|does|do|is|are|should|will|would|any)\b")
_PERSONAL = re.compile(
    r"\b(?:my|our|me|i|im|ive|id|we|us|he|she|hes|shes|him|her|his|hers|son|daughter|lo|right now|currently)\b"
)


def general_question(sentence: str) -> bool:
    """ "What is apnoea of prematurity?": a question about nobody in particular."""
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


# The second opinion is the "in doubt" layer; these take the doubt away (the rules still apply in full).
_ANIMAL = re.compile(r"\b(?:dogs?|pupp(?:y|ies)|cats?|kittens?|labrador|pets?|vet|rabbit|hamster|horse)\b")
_REASSURED = re.compile(
    r"\b(?:is|seems|was|s|shes|hes|theyre|been) (?:\w+ )?(?:fine|ok|okay|well|thriving|happy|settled|playing)\b"
    r"|\bwoke (?:up )?happy|\bfeeding well|\bback to (?:normal|herself|himself)"
    r"|\b(?:haha\w*|giggl\w*|grinning|first steps|first tooth|came up (?:smiling|laughing|happy|fine))\b"
    r"|\bcarried on (?:feeding|drinking|eating|playing|smiling|happily|happy|as normal|as if)\b"
    r"|(?<!stopped )(?<!not )\b(?:smiling|laughing) (?:away|again|at)\b"
    r"|\b(?:she|he|they|baby) (?:then )?(?:settles|calms(?: down)?|goes back to sleep|carries on)\b"
)
_MIN_WORDS_FOR_EXAMPLES = 5
"""Resemblance needs a description: a keyword ("fits", "breathing") is a topic, not an emergency."""


def open_to_resemblance(text: str) -> bool:
    """May the example bank's second opinion speak? Only for a description of a baby that is not reassuring."""
    return len(text.split()) >= _MIN_WORDS_FOR_EXAMPLES and not _ANIMAL.search(text) and not _REASSURED.search(text)
