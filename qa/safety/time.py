"""Is a matched sign about now? Long past and already-resolved events are not an emergency.

One notion, read at two sizes: a clause or sentence is *over* when it tells the past ("last year",
"3 weeks ago", "when she was a baby") or a resolution ("coughed it up straight away", "it was just
the monitor") and nothing in it brings it back to now ("still", "right now", "again today"). A
sign is dated in its own clause of its own sentence (`told_as_past`); a sentence is kept for the
numeric fever check only when it is not over (`about_the_past`); and a message that says it recurs
("it happened again today") brings every past description back (`brought_back`). Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from qa.safety.lexicon import RECOVERED

__all__ = ["CHECKED", "PRESENT", "STILL_THERE", "about_the_past", "brought_back", "told_as_past"]


_PAST = re.compile(
    r"(?<!since )(?<!did )(?<!like )\blast (?:week|month|year|summer|winter|spring|autumn|fall|christmas|time"
    r"|january|february|march|april|may|june|july|august|september|october|november|december"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
    r"|(?<!born )(?<!due )(?<!diagnosed )(?<!epilepsy )"
    r"\bin (?:january|february|march|april|june|july|august|september|october|november|december|(?:19|20)\d\d)\b"
    r"|\b(?:was|were) (?:\d+|a few) (?:days?|weeks?|months?) (?:old )?then\b"
    r"|(?<!did )\b(?:\d+|a|few|several|couple of) (?:days?|weeks?|months?|years?) ago\b"
    r"|\bwhen (?:\w+ ){1,2}(?:was|were) (?:a )?(?:baby|newborn|younger|little|tiny|small)\b"
    r"|\bback when (?:\w+ ){1,3}(?:was|were)\b"
    r"|\bas (?:a )?(?:baby|babies|child|children|kid|kids|toddler)\b|\bin the \d0s\b"
    r"|(?<!no )\bhistory of\b|\bin the past\b(?! (?:\d+ |few |couple of )?(?:hours?|minutes?|half hour|days?))"
    r"|\b(?:been|was|is|hes|shes) (?:\w+ )?fine (?:ever )?since\b"
)
CHECKED = (
    # Already judged by someone qualified: "the health visitor looked at it and said it's cutis marmorata".
    r"\b(?:doctors?|gp|health visitor|hv|nurse|midwife|paediatrician|pediatrician|consultant|dermatologist|111)"
    r" (?:\w+ ){0,14}(?:said|says|told (?:us|me)|confirmed|reassured (?:us|me)|explained)"
    r" (?:\w+ ){0,8}(?:normal|nothing|fine|harmless|benign|common|ok|okay|cutis|birth ?mark|reflux|viral"
    r"|(?:is|was|its|are|were) just (?:a|an|his|her|from|the)"
    r"|breath ?holding)\b"
    r"|\b(?:doctors?|gp|health visitor|nurse|paediatrician|pediatrician|consultant|paramedics?|hospital)"
    r" (?:\w+ ){0,2}checked (?:him|her|them|it)(?: over)? and (?:\w+ ){0,3}(?:fine|ok|okay|normal|well)\b"
)
_CHECKED = re.compile(CHECKED)
_PASSING = re.compile(
    r"\b(?:(?:is|was|s) fine (?:within|after|in) |(?:goes|went|turns?|turned) (?:back )?pink"
    r"|once (?:he|she|they) (?:is|was|s)"
    r"|when (?:he|she|they) (?:is |s |gets )?(?:cold|chilly|furious|angry|cross|crying|cries|upset|strains))"
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
    r"|\b(?:coughed|spat|brought|sicked|cleared) (?:it |them |the \w+ )?(?:straight |right |back )?(?:up|out)\b.{0,30}"
    r"\b(?:was|is) (?:\w+ )?"
    r"(?:fine|ok|okay)"
    r"|\bcarried on (?:feeding|drinking|eating|playing|smiling|chewing|crawling|babbling|giggling|happily|happy"
    r"|as normal|as if)\b"
    r"|\bwakes? (?:up )?(?:easily|fine|normally|happily|happy)\b|\bfeeds? well\b"
    r"|\b(?:fever|temperature|temp) (?:has |had |is )?(?:gone|went down|come down|came down|broke|broken|settled)\b"
    r"|\b\d+ (?:months?|weeks?|years?) (?:old )?now and (?:\w+ )?(?:fine|well|healthy|thriving)\b"
)
_RECOVERED = RECOVERED
_RECOVERED_BEFORE = "".join(f"(?<!{word} )" for word in sorted(_RECOVERED))
PRESENT = re.compile(
    r"\b(?:right now|currently|at the moment|still|today|tonight|this (?:morning|afternoon|evening)|just now"
    r"|anymore|any more|no longer|lately|started|starting|began|begun|keeps? (?:happening|doing)"
    r"|(?:has|have|hes|shes) been \w+ing"
    r"|\b(?:is|are|hes|shes|its|s) now\b|\bhas (?:lasted|gone on|been going)\b|\bthis (?:fit|seizure|convulsion|one)\b"
    r"|(?:and|but) now|(?:a few|a couple of|\d+) (?:minutes|mins|hours|hrs) ago|1 (?:minute|hour) ago"
    # Loss of a skill is a state that lasts: "he stopped smiling two weeks ago" is now.
    r"|stopped (?:smil|babbl|roll|laugh|coo|track|reach|sitt|crawl|follow)\w*"
    r"|now (?:he|she|they|hes|shes|its|theyre)\b"
    r"(?! (?:is |s )?(?:\d|well|fine|ok|okay|thriving|healthy|good|great|better)))"
    # "again" is now ("it happened again"), but "laughing again" is recovery.
    r"|" + _RECOVERED_BEFORE + r"\bagain\b"
)


_RECURS = re.compile(
    r"\b(?:happened|happening|doing it|did it|started|starting|had (?:it|another|one)|having (?:it|another|one)) "
    r"(?:\w+ )?again\b|" + _RECOVERED_BEFORE + r"\bagain (?:today|tonight|now|this (?:morning|afternoon|evening))\b"
    r"|\bstill (?:happening|going|doing it)|\bkeeps? (?:happening|doing (?:it|this|that))\b"
    r"|\b(?:had|having|has had) (?:another|one more)(?: \w+){0,2} "
    r"(?:today|tonight|now|just now|earlier|this (?:morning|afternoon|evening))\b"
)


STILL_THERE = re.compile(r"\b(?:still|came (?:straight |right )?back|coming back|worse|again)\b")
"""The sign has not gone: no finding clears it ("coughed it up, but her lips are still blue")."""


def brought_back(text: str) -> bool:
    """ "It happened again today": a past description is about now after all."""
    return bool(_RECURS.search(text))


@lru_cache(maxsize=4096)
def about_the_past(sentence: str, resolved: bool = True) -> bool:
    """Long ago or (with `resolved`) already over, with nothing that brings it back to now. (Asked for
    every match in a clause, hence the cache.)"""
    over = _PAST.search(sentence) or (resolved and _RESOLVED.search(sentence))
    return bool(over) and not PRESENT.search(sentence)


def _over(clause: str) -> bool:
    """Resolved, with nothing that makes it now (a clause after "but": "..., but it was just the monitor")."""
    return bool(_RESOLVED.search(clause)) and not PRESENT.search(clause)


_CONTRAST = re.compile(r" (?=(?:but|however|although|though|whereas|and then)\b)")


def told_as_past(text: str, span: tuple[int, int], starts: Sequence[int] = (0,), resolved: bool = True) -> bool:
    """Is the sign at `span` told about the past? Its own clause decides, in its own sentence (`starts`:
    where each sentence of `text` begins): in "coughed it up quickly, but his lips have gone blue" the
    sign is now; a sentence that ends resolved ("..., but it was just the monitor") is over; a sign
    that begins in a past sentence ("a seizure last year ... Will he have another?") is past.
    Without `resolved`, only long ago counts: a first seizure that has just stopped is still the sign.
    """
    begin, end = span
    sentence = _sentence(text, end, starts)
    for verdict in _CHECKED.finditer(text, sentence[0], sentence[1]):
        # A clinician's verdict on this sign: told after it ("... and said it's cutis marmorata") and not an
        # older one ("we saw the health visitor last week and she said he was fine"), or told before a sign
        # described as passing ("said breath-holding is harmless, he goes a bit blue and is fine within
        # seconds"); never with anything now after it ("GP said it was a cold, now she's floppy").
        after = verdict.end() > end and not _PAST.search(text, end, verdict.end())
        passing = verdict.end() <= begin and _PASSING.search(text, end, sentence[1])
        if (after or passing) and not PRESENT.search(text, verdict.start(), sentence[1]):
            return True
    first = _sentence(text, begin + 1, starts)
    if first != _sentence(text, end, starts) and about_the_past(text[first[0] : first[1]], resolved):
        return True
    start, stop = _sentence(text, end, starts)
    clauses = _CONTRAST.split(text[start:stop])
    if resolved and len(clauses) > 1 and _over(clauses[-1]):
        return True
    offset = start
    for clause in clauses:
        offset += len(clause) + 1
        if offset >= end:
            return about_the_past(clause, resolved)
    return about_the_past(clauses[-1], resolved)


def _sentence(text: str, position: int, starts: Sequence[int]) -> tuple[int, int]:
    """The sentence holding the character just before `position`."""
    start = max((s for s in starts if s < position), default=0)
    return start, min((s for s in starts if s >= position), default=len(text))
