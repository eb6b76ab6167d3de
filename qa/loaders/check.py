"""Checks across the entries of a whole corpus, after each file is parsed.

Errors (the corpus is not indexed): two entries with one id, or one question
in two entries (a question must lead to one answer). Warnings (reported,
never blocking): questions in two entries that are nearly the same, and very
long answers. A problem about an entry is placed at its answer's first line,
the line its citation starts at.

Two questions are nearly the same when the stems of their meaningful words
are the same (word order, plurals, "a"/"the" aside), or are the same but for
one word of five letters or more that is one typo away. A plain similarity
ratio will not do: in a templated corpus ("What are the treatments for X?")
it finds most questions alike. Both tests are dictionary look-ups, never a
comparison of all pairs, so 16,000 entries take a fraction of a second.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

import Stemmer

from qa.loaders.common import Problem, Severity
from qa.records import Entry

LONG_ANSWER_CHARS = 5_000
"""Answers longer than this are reported: hard to read in a chat, and a sign of two entries in one."""
FUNCTION_WORDS = frozenset(
    {
        *("a", "an", "the", "is", "are", "am", "was", "were", "be", "been", "being", "do", "does", "did"),
        *("can", "could", "should", "would", "will", "may", "might", "must", "my", "your", "our", "their"),
        *("his", "her", "its", "it", "i", "you", "we", "they", "he", "she", "me", "us", "them", "of", "for"),
        *("in", "on", "at", "by", "with", "from", "about", "as", "and", "or", "that", "this", "these"),
        *("those", "there", "any", "some"),
    }
)
"""Words that do not change what a question asks. Question words, "not" and "to" ("what to do") are not among them."""
_TYPO_MIN_LENGTH = 5
"""Shorter words one letter apart are usually different words ("type 1"/"type 2", "ear"/"eye")."""
_STEMMER = Stemmer.Stemmer("english")

_WORD = re.compile(r"[^\W_]+")


def normalise(question: str) -> str:
    """Lower case, punctuation and spacing removed: the form two questions are compared in."""
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", question).casefold()))


def _at(entry: Entry) -> str:
    return f"{entry.source}:{entry.lines[0]}"


def _problem(entry: Entry, message: str, severity: Severity = "error") -> Problem:
    return Problem(source=entry.source, line=entry.lines[0], message=message, severity=severity)


def _duplicate_ids(entries: Sequence[Entry]) -> Iterator[Problem]:
    seen: dict[str, Entry] = {}
    for entry in entries:
        first = seen.setdefault(entry.id, entry)
        if first is not entry:
            yield _problem(
                entry,
                f"duplicate entry id {entry.id!r} (first at {_at(first)}); merge the two entries or give distinct ids",
            )


def _questions(entries: Sequence[Entry]) -> tuple[dict[str, tuple[int, str]], list[Problem]]:
    """Each normalised question -> (index of the first entry asking it, its text); repeats reported."""
    owner: dict[str, tuple[int, str]] = {}
    problems: list[Problem] = []
    for index, entry in enumerate(entries):
        for question in entry.questions:
            key = normalise(question)
            if not key:
                continue
            first = owner.setdefault(key, (index, question))
            if first[0] != index:
                other = entries[first[0]]
                problems.append(
                    _problem(
                        entry,
                        f"duplicate question {question!r}: the entry at {_at(other)} asks it too ({first[1]!r}); "
                        "a question must lead to one answer: merge the entries or reword one",
                    )
                )
    return owner, problems


def _signature(key: str) -> tuple[str, ...]:
    """The stems of a normalised question's words that carry its meaning, sorted and without repeats."""
    return tuple(sorted(set(_STEMMER.stemWords([word for word in key.split() if word not in FUNCTION_WORDS]))))


def _typo_neighbours(words: Iterable[str]) -> dict[str, set[str]]:
    """Each word -> the other words one edit away: by symmetric deletion, they share a one-letter deletion."""
    by_variant: defaultdict[str, set[str]] = defaultdict(set)
    for word in words:
        if len(word) >= _TYPO_MIN_LENGTH:
            for variant in (word, *(word[:cut] + word[cut + 1 :] for cut in range(len(word)))):
                by_variant[variant].add(word)
    neighbours: defaultdict[str, set[str]] = defaultdict(set)
    for group in by_variant.values():
        if len(group) > 1:
            for word in group:
                neighbours[word] |= group - {word}
    return neighbours


def _buckets(signatures: Sequence[tuple[str, ...]]) -> Iterator[list[int]]:
    """Groups of indices into `signatures` that are the same, or the same but for one word one typo apart."""
    same: defaultdict[tuple[str, ...], list[int]] = defaultdict(list)
    for index, signature in enumerate(signatures):
        if signature:
            same[signature].append(index)
    yield from (members for members in same.values() if len(members) > 1)
    # Typos are looked up word by word (a corpus has far fewer distinct words than questions) and only
    # then turned into the signature they would give: no pair of questions is compared.
    neighbours = _typo_neighbours({word for signature in same for word in signature})
    for signature, members in same.items():
        for word in signature:
            for other_word in neighbours.get(word, ()):
                other = tuple(sorted({*signature, other_word} - {word}))
                if other > signature and other in same:
                    yield [members[0], same[other][0]]


def _near_duplicates(entries: Sequence[Entry], owner: dict[str, tuple[int, str]]) -> Iterator[Problem]:
    keys = list(owner)
    signatures = [_signature(key) for key in keys]
    reported: set[tuple[int, int]] = set()
    for members in _buckets(signatures):
        if len(members) < 2:
            continue
        for index in members[1:]:
            (first, first_text), (second, second_text) = owner[keys[members[0]]], owner[keys[index]]
            pair = (min(first, second), max(first, second))
            if first == second or pair in reported:
                continue  # alternates of one entry are meant to be alike
            reported.add(pair)
            if first > second:
                (first, first_text), (second, second_text) = (second, second_text), (first, first_text)
            yield _problem(
                entries[second],
                f"question {second_text!r} is nearly the same as {first_text!r} at {_at(entries[first])}; "
                "if they ask the same thing, merge the entries",
                "warning",
            )


def _long_answers(entries: Sequence[Entry]) -> Iterator[Problem]:
    for entry in entries:
        if len(entry.answer) > LONG_ANSWER_CHARS:
            yield _problem(
                entry,
                f"answer is {len(entry.answer):,} characters long (over {LONG_ANSWER_CHARS:,}); "
                "consider splitting it into entries",
                "warning",
            )


def check_entries(entries: Sequence[Entry]) -> list[Problem]:
    """Problems that only show across entries (ids, repeated and near-repeated questions, long answers)."""
    owner, repeated = _questions(entries)
    return [*_duplicate_ids(entries), *repeated, *_near_duplicates(entries, owner), *_long_answers(entries)]
