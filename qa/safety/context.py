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
from collections.abc import Sequence
from functools import lru_cache


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


NEGATORS = _words("not no never isnt arent wasnt werent doesnt dont didnt hasnt havent hadnt without nor neither")
HYPOTHETICAL = frozenset({"if", "whether"})
"""Just before a match, these make it a what-if ("how can I tell if he is having a seizure")."""
_NEGATION_WINDOW = 3
_NEGATION_IN = re.compile(r"\b(?:" + "|".join(sorted(NEGATORS)) + r"|wont|cant|cannot|stop\w*|unable)\b")
_LINKS = _words(
    "is are was were be been being very so too at all really that a an any look looks looking seem seems seemed"
    " go gone going went turn turned turning get getting got even remotely particularly as quite bit the his her"
    " their actually currently yet he she it they hes shes its if whether ever have has had got"
    " baby my our son daughter lo little one"
)
_CLAUSE_BREAK = _words("and but its then now so because though although")
"""A negation does not reach over these: "not feeding and floppy", "isn't sunken, it's bulging"."""


def negated(sentence: str, match: re.Match[str]) -> bool:
    """A negation or what-if just before the match, or inside it when the rule itself has no negation.

    "lips aren't blue" and "soft spot isn't bulging" are negated; "rash doesn't fade" is the sign itself.
    """
    before = _after_last_break(sentence[: match.start()].split()[-_NEGATION_WINDOW:])
    for i, word in enumerate(before):
        # "lips aren't at all blue" is negated; in "not feeding, floppy" the "not" belongs to "feeding".
        if (word in NEGATORS or word in HYPOTHETICAL) and all(w in _LINKS for w in before[i + 1 :]):
            return True
    inside = _after_last_break(match.group(0).split()[1:-1][-_NEGATION_WINDOW:])
    return any(word in NEGATORS for word in inside) and not _negation_in(match.re)


def _after_last_break(words: list[str]) -> list[str]:
    breaks = [i for i, word in enumerate(words) if word in _CLAUSE_BREAK]
    return words[breaks[-1] + 1 :] if breaks else words


_ESCAPES = re.compile(r"\\[bBwWdDsS]")


def _negation_in(pattern: re.Pattern[str]) -> bool:
    """Does the rule itself spell a negation? ("\\bnever happened" counts: escapes are not letters.)"""
    return bool(_NEGATION_IN.search(_ESCAPES.sub(" ", pattern.pattern)))


_MEN = _words("husband dad daddy father grandad grandpa grandfather uncle boyfriend brother stepdad")
_WOMEN = _words("wife mum mom mummy mommy mother grandma granny nan nana grandmother auntie girlfriend sister")
ANIMALS = _words(
    "dog dogs puppy cat cats kitten labrador spaniel terrier retriever collie poodle pug beagle dachshund"
    " pet pets vet rabbit hamster horse"
)
_TOYS = _words("doll dolls dolly teddy manikin mannequin toy toys comforter")
_ANYONE = _words("partner friend colleague boss")
NOT_THE_BABY = _MEN | _WOMEN | ANIMALS | _TOYS | _ANYONE
"""Grown-ups, pets and toys: whoever else a sign may belong to ("her doll wasn't breathing")."""
_HE, _SHE = _words("he hes him his"), _words("she shes her hers")
_BABY_NOUNS = _words("baby babys son daughter lo newborn infant toddler child kid bub bubs twins")
BABY = _BABY_NOUNS | _HE | _SHE | _words("they theyre them")
FIRST_PERSON = _words("i im ive id myself")
_I_STATE = _words(
    "feel felt feeling have had got ve nearly almost completely totally so really am was a bit myself too also just"
)
""""I" is the subject only of a state ("I feel completely limp", "I've got a stiff neck", "I nearly choked");
"I'm panicking, not breathing" and "I think not breathing" are about the baby."""
_THEY = _words("they theyre them")
_GENERIC = _words("babies infants newborns children kids toddlers")
_SUBJECT_WINDOW = 15
_AFTER_WINDOW = 2
_OWN_THINGS = frozenset({"his", "their"})
"""A possessive right after the sign: "choked on his coffee" is the grown-up's coffee."""
_BODY = _words(
    "head face lips mouth tongue skin body chest tummy belly neck back arm arms leg legs hand hands foot feet eyes side"
)


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
        if word in _BABY_NOUNS or (word == "one" and earlier[-1:] == ["little"]):
            return False
        if before[len(before) - distance + 1 : len(before) - distance + 2] == ["here"]:
            continue  # "Mum here, little one is gasping": the one writing
        if word in _THEY and _GENERIC & set(earlier):
            return True  # "babies shouldn't sleep on their tummy because they stop breathing": babies in general
        if word in BABY:
            return _pronoun_is_a_grown_up(word, earlier, history) and _no_baby_near(text, match, word)
        owner = word[:-1] if word.endswith("s") and word[:-1] in NOT_THE_BABY else word  # "my husband's neck"
        if owner in NOT_THE_BABY and "like" not in earlier[-2:]:  # not "panting like a dog"
            # "The baby was lying next to my mum and went grey": the sentence is about the baby named first
            # (but "my daughter put her doll to bed ... it wasn't breathing" is the doll).
            baby_first = owner not in ANIMALS | _TOYS and _BABY_NOUNS & set(earlier)
            return not baby_first and _no_baby_near(text, match, owner)
        if word in FIRST_PERSON or (word == "my" and distance == 1):  # "my lips are purple from the berries"
            between = before[len(before) - distance + 1 :]
            if all(w in _I_STATE for w in between) and not _BABY_NOUNS & set(earlier):
                return _no_baby_near(text, match, "i")
    return False


def _pronoun_is_a_grown_up(pronoun: str, earlier: list[str], history: str) -> bool:
    """ "My husband has epilepsy. He had a seizure this morning": the sentence starts with the pronoun,
    an earlier sentence named a grown-up of the same sex, and nothing since points at a baby."""
    if earlier or pronoun not in _HE | _SHE:
        return False
    named = history.split()
    people = _MEN if pronoun in _HE else _WOMEN
    for i in range(len(named) - 1, -1, -1):
        if named[i] in people:
            since = set(named[i + 1 :])
            return not since & (BABY - _HE - _SHE) and not since & (_HE | _SHE)
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
    theirs = _HE if owner in _MEN else _SHE if owner in _WOMEN else frozenset()
    return not any(
        w in BABY and w not in theirs and not _own_thing(after, i) and (i < len(inside) or w not in _SUBJECTS)
        for i, w in enumerate(near)
    )


def _own_thing(words: list[str], i: int) -> bool:
    return words[i] in _OWN_THINGS and i + 1 < len(words) and words[i + 1] not in _BODY


_PAST = re.compile(
    r"(?<!since )(?<!did )(?<!like )\blast (?:week|month|year|summer|winter|spring|autumn|fall|christmas|time"
    r"|january|february|march|april|may|june|july|august|september|october|november|december)\b"
    r"|\b(?:was|were) (?:\d+|a few) (?:days?|weeks?|months?) (?:old )?then\b"
    r"|(?<!did )\b(?:\d+|a|few|several|couple of) (?:days?|weeks?|months?|years?) ago\b"
    r"|\bwhen (?:\w+ ){1,2}(?:was|were) (?:a )?(?:baby|newborn|younger|little|tiny|small)\b"
    r"|\bback when (?:\w+ ){1,3}(?:was|were)\b"
    r"|\bas (?:a )?(?:baby|babies|child|children|kid|kids|toddler)\b|\bin the \d0s\b"
    r"|(?<!no )\bhistory of\b|\bin the past\b(?! (?:\d+ |few |couple of )?(?:hours?|minutes?|half hour|days?))"
    r"|\b(?:been|was|is|hes|shes) (?:\w+ )?fine (?:ever )?since\b"
)
_RESOLVED = re.compile(
    # Resolved at once or a false alarm: "coughed it out and was totally fine", "it was just the monitor".
    r"\b(?:was|were|is|seemed|has been) (?:totally |completely |perfectly |absolutely )?(?:fine|ok|okay|normal)"
    r" (?:straight away|right away|afterwards|after|since|the whole time)\b|\bbut it was (?:just|only)\b"
    r"|\bturned out (?:to be )?(?:nothing|fine|ok|okay|normal|just|only)\b|\bfalse alarm\b|\b(?:home and )?thriving\b"
    r"|\b(?:yesterday|last night)\b.{0,80}\b(?:was|is|seemed) (?:\w+ )?(?:fine|ok|okay|normal)\b"
    r"|\b(?:seconds|moments?|a minute) later (?:\w+ ){0,2}(?:was|is|were) (?:\w+ )?"
    r"(?:fine|ok|okay|normal|laughing|smiling)"
    r"|\b(?:coughed|spat|brought|sicked|cleared) (?:it |them |the \w+ )?(?:up|out) (?:\w+ )?(?:straight away|right away"
    r"|immediately|at once|quickly|by (?:him|her)self)"
    r"|\b(?:coughed|spat|brought|sicked|cleared) (?:it |them |the \w+ )?(?:up|out)\b.{0,30}\b(?:was|is) (?:\w+ )?"
    r"(?:fine|ok|okay)"
    r"|\bcarried on (?:feeding|drinking|eating|playing|smiling|happily|happy|as normal|as if)\b"
    r"|\bwakes? (?:up )?(?:easily|fine|normally|happily|happy)\b|\bfeeds? well\b"
    r"|\b(?:fever|temperature|temp) (?:has |had |is )?(?:gone|went down|come down|came down|broke|broken|settled)\b"
    r"|\b\d+ (?:months?|weeks?|years?) (?:old )?now and (?:\w+ )?(?:fine|well|healthy|thriving)\b"
)
_RECOVERED = _words("laughing smiling playing feeding eating drinking sleeping herself himself normal")
_RECOVERED_BEFORE = "".join(f"(?<!{word} )" for word in sorted(_RECOVERED))
_PRESENT = re.compile(
    r"\b(?:right now|currently|at the moment|still|today|tonight|this (?:morning|afternoon|evening)|just now"
    r"|anymore|any more|no longer|lately|started|starting|began|begun|keeps? (?:happening|doing)"
    r"|(?:has|have|hes|shes) been \w+ing"
    r"|(?:and|but) now"
    r"|now (?:he|she|they|hes|shes|its|theyre)\b"
    r"(?! (?:is |s )?(?:\d|well|fine|ok|okay|thriving|healthy|good|great|better)))"
    # "again" is now ("it happened again"), but "laughing again" is recovery.
    r"|" + _RECOVERED_BEFORE + r"\bagain\b"
)


_RECURS = re.compile(
    r"\b(?:happened|happening|doing it|did it|started|starting|had (?:it|another|one)|having (?:it|another|one)) "
    r"(?:\w+ )?again\b|" + _RECOVERED_BEFORE + r"\bagain (?:today|tonight|now|this (?:morning|afternoon|evening))\b"
    r"|\bstill (?:happening|going|doing it)|\bkeeps? (?:happening|doing (?:it|this|that))\b"
)


def brought_back(text: str) -> bool:
    """ "It happened again today": a past description is about now after all."""
    return bool(_RECURS.search(text))


@lru_cache(maxsize=4096)
def about_the_past(sentence: str) -> bool:
    """Long ago or already over, with nothing that brings it back to now. (Asked for every match in a
    clause, hence the cache.)"""
    return bool(_PAST.search(sentence) or _RESOLVED.search(sentence)) and not _PRESENT.search(sentence)


def _over(clause: str) -> bool:
    return bool(_RESOLVED.search(clause)) and not _PRESENT.search(clause)


_CONTRAST = re.compile(r" (?=(?:but|however|although|though|whereas)\b)")


def told_as_past(text: str, span: tuple[int, int], starts: Sequence[int] = (0,)) -> bool:
    """Is the sign at `span` told about the past? Its own clause decides, in its own sentence (`starts`:
    where each sentence of `text` begins): in "coughed it up quickly, but his lips have gone blue" the
    sign is now; a sentence that ends resolved ("..., but it was just the monitor") is over; a sign
    that begins in a past sentence ("a seizure last year ... Will he have another?") is past.
    """
    begin, end = span
    first = _sentence(text, begin + 1, starts)
    if first != _sentence(text, end, starts) and about_the_past(text[first[0] : first[1]]):
        return True
    start, stop = _sentence(text, end, starts)
    clauses = _CONTRAST.split(text[start:stop])
    if len(clauses) > 1 and _over(clauses[-1]):
        return True
    offset = start
    for clause in clauses:
        offset += len(clause) + 1
        if offset >= end:
            return about_the_past(clause)
    return about_the_past(clauses[-1])


def _sentence(text: str, position: int, starts: Sequence[int]) -> tuple[int, int]:
    """The sentence holding the character just before `position`."""
    start = max((s for s in starts if s < position), default=0)
    return start, min((s for s in starts if s >= position), default=len(text))


_FRAMED = re.compile(
    r"\b(?:just (?:want|wanted|wanting) to know|for (?:the )?future|just curious|out of curiosity|out of interest"
    r"|hypothetically|for reference|reading up|reading about|just reading|researching|learning about"
    r"|general knowledge|general question|asking for a friend|asking for (?:my|an|our) (?:\w+ )?(?:class|course|group)"
    r"|not born yet|antenatal|(?:cpr|first aid|resus\w*) (?:training|course|class|session))\b"
)
"""A whole message framed as curiosity ("just want to know for the future"), when nothing in it is now."""
_WHAT_IF = re.compile(
    r"\b(?:what (?:do|should) (?:i|we|you) do if|what if|if (?:\w+ ){0,5}ever"
    r"|how (?:do|can|would|should) (?:i|we|you) (?:tell|know|spot|recogni[sz]e))\b"
)
"""What follows these is asked about, not seen: "what should I do if she stops breathing?". They never
reach back: in "he's not breathing, what do I do if he goes blue" the first sign stands."""


_NEW_CLAUSE = re.compile(r"\b(?:hes|shes|theyre|its|but|now)\b")


def framed_as_curiosity(text: str) -> bool:
    return bool(_FRAMED.search(text)) and not _PRESENT.search(text)


def asked_about(text: str, match: re.Match[str]) -> bool:
    """After a what-if in the same clause, or in a sentence framed as curiosity."""
    if framed_as_curiosity(text):
        return True
    return any(
        asking.end() <= match.start() and not _NEW_CLAUSE.search(text, asking.end(), match.start())
        for asking in _WHAT_IF.finditer(text)
    )


def before_asking(text: str) -> str:
    asking = _WHAT_IF.search(text)
    return text[: asking.start()] if asking else text


_WH_START = re.compile(r"^\s*(?:what|whats|wat|wot|how|hows|why|which|difference)\b")
_AUX_START = re.compile(r"^\s*(?:when|who|can|could|does|do|is|are|should|will|would|any)\b")
_PERSONAL = re.compile(
    r"\b(?:my|our|me|i|im|ive|id|we|us|he|she|hes|shes|him|her|his|hers|son|daughter|lo|right now|currently)\b"
)


def general_question(sentence: str, asked: bool = False) -> bool:
    """ "What is apnoea of prematurity?": a question about nobody in particular (`asked`: it ended in "?")."""
    starts = _WH_START.match(sentence) or (asked and _AUX_START.match(sentence))
    return bool(starts) and not _PERSONAL.search(sentence)


def is_information_question(text: str, parts: list[str]) -> bool:
    """Every sentence asks, about nobody in particular ("what do febrile seizures look like?").

    `parts` are the sentences of `text`; "is this spasms? eyes roll up, body tenses" describes a baby.
    """
    asked = "?" in text
    return framed_as_curiosity(text) or (bool(parts) and all(general_question(part, asked) for part in parts))


# The second opinion is the "in doubt" layer; these take the doubt away (the rules still apply in full).
_ANIMAL = re.compile(r"\b(?:" + "|".join(sorted(ANIMALS | {"puppies", "kittens"})) + r")\b")
_REASSURED = re.compile(
    r"\b(?:is|seems|was|s|shes|hes|theyre|been) (?:\w+ )?(?:fine|ok|okay|well|thriving|happy|settled|playing)\b"
    r"|\b(?:woke|wakes?) (?:up )?(?:happy|smiling)|\bfeeding well|\bback to (?:normal|herself|himself)"
    r"|\b(?:haha\w*|giggl\w*|grinning|first steps|first tooth|came up (?:smiling|laughing|happy|fine))\b"
    r"|\b(?:loved|loves|enjoyed|enjoys) (?:it|every)|\bhad (?:a great time|fun)"
    r"|\bhappy (?:all day|in (?:him|her|them)self|otherwise)|\b(?:stable|recovering|on the mend) now\b"
    r"|\b(?:naps?|napping|sleep regression|waking every|wakes? (?:up )?every|bedtime|night wakings?)\b"
    r"|(?<!stopped )(?<!not )\b(?:smiling|laughing) (?:away|again|at)\b"
    r"|\b(?:she|he|they|baby) (?:then )?(?:settles|calms(?: down)?|goes back to sleep|carries on)\b"
)
_MIN_WORDS_FOR_EXAMPLES = 5
"""Resemblance needs a description: a keyword ("fits", "breathing") is a topic, not an emergency."""


def open_to_resemblance(unjudged: str, message: str) -> bool:
    """May the second opinion read `unjudged` (what the rules left of `message`)? Only a description of a
    baby: long enough, and a message that is not reassuring, not about a pet, not a what-if."""
    return (
        len(unjudged.split()) >= _MIN_WORDS_FOR_EXAMPLES
        and not _ANIMAL.search(message)
        and not _REASSURED.search(message)
        and not _WHAT_IF.search(message)
    )
