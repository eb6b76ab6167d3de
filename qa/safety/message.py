"""One parsed message: everything the red-flag checks read, worked out once per message.

The parent's words are normalised (`text.canonical`, misspellings fixed), split into sentences,
other senses of alarming words blanked ("a coughing fit"), sentences that only ask about nobody in
particular set aside ("what is apnoea?"), and each remaining sentence dated (is it about now?). The
rules, the fever check and the second opinion all read this record instead of re-deriving it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

from qa.safety.asking import general_questions, is_information_question
from qa.safety.text import sentences as split_sentences
from qa.safety.time import about_the_past, brought_back

Span = tuple[int, int]


@dataclass(frozen=True)
class Part:
    """What the rules read: one sentence (with the message before it, for whom "he" means), or the
    whole message (with where its sentences start, so that each sign is dated in its own sentence)."""

    text: str
    history: str = ""
    starts: tuple[int, ...] = (0,)

    @classmethod
    def joined(cls, sentences: list[str]) -> Part:
        starts = [0]
        for sentence in sentences[:-1]:
            starts.append(starts[-1] + len(sentence) + 1)
        return cls(" ".join(sentences), starts=tuple(starts))

    def without(self, spans: list[Span], keep: tuple[str, ...]) -> str:
        """The text with `spans` blanked, only its sentences in `keep`."""
        chars = list(self.text)
        for start, end in spans:
            chars[start:end] = " " * (end - start)
        blanked = "".join(chars)
        bounds = [*self.starts, len(self.text) + 1]
        pieces = [(self.text[a : b - 1], blanked[a : b - 1]) for a, b in pairwise(bounds)]
        return " ".join(" ".join(piece.split()) for original, piece in pieces if original in keep)


@dataclass(frozen=True)
class Message:
    text: str
    """Canonical form, misspellings fixed: what every pattern is matched against."""
    asking_only: bool
    """Every sentence asks about nobody in particular, or the message is framed as curiosity."""
    recurs: bool
    """ "It happened again today": past descriptions are about now after all."""
    parts: tuple[Part, ...]
    """Each kept sentence alone (other senses blanked), then, with two or more, all of them joined."""
    now: tuple[str, ...]
    """The kept sentences that are about now (for the fever check and the second opinion)."""

    @property
    def words(self) -> int:
        return len(self.text.split())


def parse(message: str, prepare: Callable[[str], str], blank_other_senses: Callable[[str], str]) -> Message:
    text = prepare(message)
    sentences = tuple(split_sentences(text))
    asked = "?" in text
    kept = [
        (i, blank_other_senses(sentence))
        for i, (sentence, general) in enumerate(zip(sentences, general_questions(sentences, asked), strict=True))
        if not general
    ]
    recurs = brought_back(text)
    # Signs are often told across sentences ("had what looked like a fit?? never happened before").
    parts = [Part(sentence, " ".join(sentences[:i])) for i, sentence in kept]
    if len(parts) > 1:
        parts.append(Part.joined([sentence for _, sentence in kept]))
    return Message(
        text=text,
        asking_only=is_information_question(text, list(sentences)),
        recurs=recurs,
        parts=tuple(parts),
        now=tuple(sentence for _, sentence in kept if recurs or not about_the_past(sentence)),
    )
