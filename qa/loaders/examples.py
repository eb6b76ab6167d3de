"""Example questions: how people really ask, labelled with the entry that answers them.

An FAQ's own questions are one phrasing each; parents ask the same thing a
hundred ways ("is the jerking when she wakes up normal", "spazms after naps??").
Rasa bots learn from example phrasings per intent and Azure's question answering
adds user questions as alternates; here a corpus folder may hold any number of
`*.examples.jsonl` files in `qa eval`'s format, and the index keeps them as a
memory the ranker reads (`qa.features`: how close the message is to examples of
each entry, and to examples the corpus does *not* answer):

    {"question": "spazms after naps is that normal", "expected": ["is-it-normal-..."]}
    {"question": "how is west syndrome treated", "expected": "none"}
    {"question": "...", "expected": [...], "set": "dev5"}   # optional: which labelled set it came from

"none" marks a question the corpus does not answer, a near miss to abstain on.
`set` records provenance, so a fit can leave a set's examples out while it
judges that set. An example naming an entry the corpus no longer has is a
warning and is skipped: removing content must not be blocked by its examples.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from qa.loaders.check import normalise
from qa.loaders.common import Problem
from qa.records import Entry, Example

SUFFIX = ".examples.jsonl"


def is_examples(name: str) -> bool:
    return name.lower().endswith(SUFFIX)


def labelled_lines(text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line number, the line's fields with "question" and "expected" checked, or what is wrong with it).

    The one reader of `{"question", "expected": [ids] | "none"}` lines, for example files and `qa eval`'s
    labelled files alike; "expected" comes back as a tuple of ids, empty for "none".
    """
    for number, line in enumerate(text.split("\n"), start=1):  # not splitlines: U+2028 may sit in a string
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, f"not valid JSON ({exc.msg})"
            continue
        except (ValueError, RecursionError) as exc:
            yield number, f"not usable JSON ({exc})"
            continue
        question = raw.get("question") if isinstance(raw, dict) else None
        expected = raw.get("expected") if isinstance(raw, dict) else None
        if not isinstance(raw, dict) or not isinstance(question, str) or not question.strip():
            yield number, 'needs a non-empty "question" string'
        elif expected == "none":
            yield number, {**raw, "expected": ()}
        elif isinstance(expected, list) and expected and all(isinstance(i, str) and i for i in expected):
            yield number, {**raw, "expected": tuple(expected)}
        else:
            yield number, '"expected" must be a list of entry ids or "none"'


def parse(text: str, source: str) -> tuple[list[Example], list[Problem]]:
    """Every well-formed line as an `Example` (entry ids not yet checked), and a problem for each bad one."""
    examples: list[Example] = []
    problems: list[Problem] = []
    default_set = source[: -len(SUFFIX)] if is_examples(source) else source
    for number, fields in labelled_lines(text):
        if isinstance(fields, str):
            problems.append(Problem(source=source, line=number, message=fields))
            continue
        named = fields.get("set")
        group = named if isinstance(named, str) and named else default_set
        question = fields["question"].strip()
        examples.append(Example(question=question, entries=fields["expected"], set=group, source=source, line=number))
    return examples, problems


def known(examples: Sequence[Example], entries: Sequence[Entry]) -> tuple[list[Example], list[Problem]]:
    """The examples whose entries all exist; a warning for each that names one the corpus lacks, for each
    marked "none" that asks an entry's own question (new content answers it now: relabel it), and for each
    entry left without examples while others have some (`unlearned`)."""
    owners = {normalise(question): entry.id for entry in entries for question in entry.questions}
    ids = {entry.id for entry in entries}
    kept: list[Example] = []
    problems: list[Problem] = []
    for example in examples:
        missing = [i for i in example.entries if i not in ids]
        answered = owners.get(normalise(example.question)) if not example.entries else None
        if answered:
            problems.append(_warning(example, f'example marked "none" asks the question of entry {answered}; '
                                     "label it with that entry (the corpus answers it now)"))
        if missing:
            problems.append(_warning(example, f"example names {', '.join(missing)}, not an entry of the corpus; "
                                     "it is skipped (fix the id, or remove the line)"))
        else:
            kept.append(example)
    return kept, problems + unlearned(kept, entries)


def _warning(example: Example, message: str) -> Problem:
    return Problem(source=example.source, line=example.line, message=message, severity="warning")


def unlearned(examples: Sequence[Example], entries: Sequence[Entry]) -> list[Problem]:
    """A warning for each entry with no example while others have some.

    The ranker leans on examples where a corpus has them, so such an entry (new content, usually) is found by
    its own questions and close copies, but a paraphrase goes to an entry that has examples, or to nothing.
    """
    taught = {i for example in examples for i in example.entries}
    if not taught:
        return []
    return [
        Problem(
            source=entry.source,
            line=entry.lines[0],
            message=f"entry {entry.id} has no example questions while {len(taught)} entries do; until it has some "
            "it is found mostly by its own questions: add a few to an .examples.jsonl file",
            severity="warning",
        )
        for entry in entries
        if entry.id not in taught
    ]
