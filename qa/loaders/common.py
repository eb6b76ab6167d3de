"""Helpers every format loader shares."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

_MAX_ID = 60


def entry_id(question: str) -> str:
    """A readable id derived from the main question alone.

    It depends on nothing else, so adding, removing or editing *other* entries
    never changes it.
    """
    ascii_text = unicodedata.normalize("NFKD", question).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > _MAX_ID:
        slug = slug[:_MAX_ID].rsplit("-", 1)[0]
    # A question in another script has no ASCII slug: a short hash of it keeps ids distinct and stable.
    return slug or "entry-" + hashlib.sha1(question.strip().encode()).hexdigest()[:10]


def unique_questions(values: Iterable[str]) -> tuple[str, ...]:
    """Strip, drop empties and exact repeats, keep order."""
    out: list[str] = []
    for value in values:
        value = value.strip()
        if value and value not in out:
            out.append(value)
    return tuple(out)
