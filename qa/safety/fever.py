"""Fever in a young baby: a numeric check, because "6 wk old 38.2" has no words to match.

Ages ("6 week old", "at 3 weeks", "newborn") and temperatures ("38.2", "100.4 f", "temp of 38")
are read from the normalised message; Fahrenheit is converted. A number near words about the
weather, the room or the bath is not the baby's temperature. Thresholds come from the rules file.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from qa.safety.lexicon import GROWN_UPS
from qa.safety.rules import FeverCheck

_AGE = re.compile(
    r"\b(\d+(?:\.\d+)?) ?(days?|d|weeks?|wks?|wk|w|months?|mos?|mths?)\b"
    # "6 week old", "6wk baby", or a terse "6wk 38.1" / "10 wks temp 38.2": an age right before a reading.
    r"(?= ?old| ?o\b| (?:baby|boy|girl|son|daughter|ka|ki|ke)\b| +(?:temperature |fever |temp )?(?:of )?\d{2,3}\b)"
    r"|\b(?:at|aged?|is|hes|shes|only|just|baby) (\d+(?:\.\d+)?) ?(days?|weeks?|wks?|months?|mos?|mths?)\b"
)
_DAYS = {"d": 1, "day": 1, "days": 1, "w": 7, "wk": 7, "wks": 7, "week": 7, "weeks": 7}
_NEWBORN = re.compile(r"\b(?:newborn|new born|neonate|newly born)\b")
_TEMPERATURE = re.compile(
    r"\b(\d{2,3}(?:\.\d+)?)(?! ?(?:days?|weeks?|wks?|months?|mos?|minutes|hours?|years?|lbs?|kg|ml|oz|g)\b)"
    r"( degrees)? ?([cf])?\b"
)
_TEMPERATURE_CONTEXT = re.compile(
    r"\b(?:temperature|fever\w*|degrees|thermometer|rectal\w*|armpit|under (?:the|her|his) arm|reading)\b"
)
_SURROUNDINGS = re.compile(
    r"\b(?:outside|weather|here in|heat ?wave|room|house|nursery|bath|water|car|sun|summer|forecast|degrees out)\b"
)
_FEVER_WORD = re.compile(
    r"\b(?:fever\w*|febrile|high temperature|a temperature|temperature of"
    r"|(?:feels?|feeling|is|so|really|very) hot|burning up|hot to (?:the )?touch)\b"
)


def _age_days(text: str) -> list[float]:
    ages = [0.0] if _NEWBORN.search(text) else []
    for match in _AGE.finditer(text):
        number, unit = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        ages.append(float(number) * _DAYS.get(unit, 30.4))
    return ages


_A_GROWN_UPS = re.compile(
    r"\b(?:my (?:own )?(?:temperature|temp)"
    r"|(?:i|ive|im) (?:\w+ ){0,3}(?:flu|covid|a cold|a virus|ill|poorly|unwell)\b.{0,40}"
    r"|(?:" + "|".join(sorted(GROWN_UPS)) + r")s? (?:\w+ ){0,3}(?:temperature|temp|fever))"
    r"(?:(?! (?:her|him|them|baby|she|he)\b).)*$"
)
_I_HAVE = re.compile(r"\b(?:i|ive|im) (?:\w+ ){0,3}(?:temperature|temp|fever)(?: of| is)? ?$")
_ILLNESS_AFTER = re.compile(r" ?(?:degrees )?(?:[cf] )?(?:with|from) (?:the |a )?(?:flu|covid|cold|virus|bug)\b")
"""The number belongs to a grown-up: "my temp is 39", "I've come down with flu and have a temperature of
39", "my husband has a fever of 39" (but not "I've got a temperature of 38.6 on her")."""


_RETAKEN = re.compile(
    r"\b(?:re ?did|re ?took|re ?checked|re ?measured|re ?tested|checked (?:it |her |him )?again"
    r"|took (?:it |her |him )?again|tried again|second reading|did it again|measured again|wrong mode|object mode"
    r"|faulty|broken thermometer)\b"
)


def _temperatures_c(text: str) -> tuple[list[float], bool]:
    """The baby's temperatures in °C, and whether a grown-up's reading was left out."""
    found = []
    skipped = False
    context = bool(_TEMPERATURE_CONTEXT.search(text))
    for match in _TEMPERATURE.finditer(text):
        if _SURROUNDINGS.search(text[max(0, match.start() - 40) : match.end() + 40]):
            continue  # the weather, the room or the bath, not the baby
        before, after = text[max(0, match.start() - 80) : match.start()], text[match.end() : match.end() + 30]
        if _A_GROWN_UPS.search(before) or (_I_HAVE.search(before) and _ILLNESS_AFTER.match(after)):
            skipped = True
            continue
        value, unit = float(match.group(1)), match.group(3)
        if not (context or unit or match.group(2) or "." in match.group(1)):
            continue
        if unit == "f" or (unit is None and 93 <= value <= 110):
            value = (value - 32) * 5 / 9
        if 30 <= value <= 45:
            found.append(value)
    if len(found) > 1 and _RETAKEN.search(text):
        found = found[-1:]  # "35.1 on object mode, re-did it on body mode and it's 36.8": the last reading counts
    return found, skipped


def fever_verdict(
    text: str, check: FeverCheck, is_negated: Callable[[str, re.Match[str]], bool], ages_in: str | None = None
) -> bool | None:
    """True: a baby under `max_age_days` with a high or low temperature, or a fever word and no number.
    False: an age and only normal temperatures were given, so the numbers answer it (not resemblance).
    None: the message does not say enough either way.

    `text` is what is about now; `ages_in` the whole message (an age told in a past sentence still holds).
    """
    ages = _age_days(text if ages_in is None else ages_in)
    temperatures, skipped = _temperatures_c(text)
    if any(t < check.low_c for t in temperatures):
        return True  # a low temperature is a sign at any age (sepsis), not only under 3 months
    if ages and temperatures and all(check.low_c <= t < check.fever_c for t in temperatures):
        return None if skipped else False  # a reading set aside as a grown-up's never rules fever out
    if not ages or min(ages) >= check.max_age_days:
        return None
    if temperatures:
        return True  # young, and at least one temperature out of range
    return True if any(not is_negated(text, m) for m in _FEVER_WORD.finditer(text)) else None
