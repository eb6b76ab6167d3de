"""Which rules could fire on a sentence, found in one pass, so the rest need not be tried.

Why: the rules' 264 Python patterns, tried one after another, cost about 0.4 ms a sentence: most of the
safety check and about a tenth of an answer's CPU under load. RE2's `Set` matches all of them in one
linear pass (7 us a sentence here). The rules' own Python patterns still decide; this only says which
rules cannot match, and it is built so that it can be wrong only by naming too many:

- RE2 has no lookarounds, so each pattern joins the set with them removed (`re2_superset`). A pattern
  with fewer conditions matches wherever the original does.
- A pattern RE2 cannot read at all (a back-reference) makes its rule a candidate for every sentence;
  a set too big for RE2's memory budget makes every rule a candidate.
- The set's first pattern matches every text. A search that did not finish (RE2 out of memory) lacks
  it, and the sentence is then tried against every rule.
- RE2's `\\w`, `\\b` and `\\s` are ASCII, Python's Unicode; the two agree on the normalised alphabet
  (`text.canonical`: a-z, digits, spaces, `.!?;`), so any other sentence is tried against every rule.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import re2

from qa.safety.rules import Rule

log = logging.getLogger(__name__)

__all__ = ["RulePrefilter", "re2_superset"]

_CANONICAL = re.compile(r"[a-z0-9 .!?;]*")
_LOOKAROUND = ("(?=", "(?!", "(?<=", "(?<!")
MAX_MEMORY = 64 << 20
"""RE2's budget for the set's DFA, grown only as sentences need it (8 MB was enough for every set here)."""


def _class_end(pattern: str, start: int) -> int:
    """The index just past the character class opened at `start` (a leading "]" is a member)."""
    i = start + (2 if pattern.startswith("[^", start) else 1)
    i += 1 if pattern.startswith("]", i) else 0
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i + 1


def _group_end(pattern: str, start: int) -> int:
    """The index just past the group opened at `start`, skipping escapes and character classes."""
    depth, i = 0, start
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] == "[":
            i = _class_end(pattern, i)
            continue
        depth += {"(": 1, ")": -1}.get(pattern[i], 0)
        i += 1
        if depth == 0:
            return i
    raise ValueError(f"unbalanced group at {start} in {pattern!r}")


def re2_superset(pattern: str) -> str:
    """`pattern` as RE2 reads it, matching at least where Python's `re` matches it.

    A lookahead or lookbehind becomes an empty group, so a quantifier after it still has something
    to repeat (`a(?=b){2}` must not become `a{2}`). Python's `{,n}` (RE2 reads it as text) becomes
    `{0,n}`. A POSIX class such as `[[:alpha:]]` means another set of characters to each engine, so it is
    refused (ValueError), as RE2 refuses what it cannot read: such a rule is tried on every sentence.
    """
    kept, i = [], 0
    while i < len(pattern):
        end = i + 1
        if pattern.startswith(_LOOKAROUND, i):
            kept.append("(?:)")
            i = _group_end(pattern, i)
            continue
        if pattern[i] == "\\":
            end = i + 2
        elif pattern[i] == "[":  # copied whole: a "(" or "{" inside a class is a character
            end = _class_end(pattern, i)
            if "[:" in pattern[i + 1 : end]:
                raise ValueError(f"a POSIX class in {pattern!r}")
        elif pattern.startswith("{,", i):
            kept.append("{0")
            i += 1
            continue
        kept.append(pattern[i:end])
        i = end
    return "".join(kept)


class RulePrefilter:
    def __init__(self, rules: Sequence[Rule], max_memory: int = MAX_MEMORY) -> None:
        options = re2.Options()
        options.max_mem = max_memory
        options.log_errors = False
        self._set = re2.Set.SearchSet(options)
        self._everything = self._set.Add("")  # matches every text: its absence means the search failed
        self._owner: dict[int, int] = {}
        self._always: set[int] = set()
        for number, rule in enumerate(rules):
            for pattern in rule.patterns:
                try:
                    self._owner[self._set.Add(re2_superset(pattern.pattern))] = number
                except (re2.error, ValueError):
                    self._always.add(number)
        self._compiled = True
        try:
            self._set.Compile()
        except re2.error:  # past RE2's memory budget: the rules still work, each tried on every sentence
            self._compiled = False
            log.warning("the rule prefilter needs more than %d bytes; every rule is tried everywhere", max_memory)
        if self._always:
            log.info("rules RE2 cannot prefilter (tried on every sentence): %s", sorted(self._always))

    def candidates(self, text: str) -> set[int] | None:
        """The numbers of the rules that could match `text`, or None when every rule must be tried."""
        if not self._compiled or _CANONICAL.fullmatch(text) is None:
            return None
        found = self._set.Match(text) or ()
        if self._everything not in found:
            return None
        return {self._owner[index] for index in found if index != self._everything} | self._always
