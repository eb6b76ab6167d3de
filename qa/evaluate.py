"""Is the engine still right? Scores labelled questions, for `qa eval` and the bench.

A labelled file is JSON Lines, one `{"question": ..., "expected": [entry ids] | "none"}`
a line (an optional `"kind"` is kept for reports). "none" means the sources do
not answer it and the engine should abstain. The figures:

* acceptable@1: in-scope questions whose first answer is an acceptable entry
  (an abstention counts as a miss);
* MRR@k: mean reciprocal rank of the first acceptable entry in the ranking,
  answered or not (0 if none in the first k);
* answered: in-scope questions that got any answer;
* abstained: out-of-scope questions that got none.

Pure logic over a `rank` function, so the same code scores the product and the
bench's baselines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qa.errors import InvalidQuestionError, LabelledFileError
from qa.loaders.examples import labelled_lines
from qa.records import QUESTION_MAX_CHARS, validate_question


@dataclass(frozen=True)
class Labelled:
    question: str
    expected: tuple[str, ...]
    """Acceptable entry ids; empty when the sources do not answer the question."""
    kind: str = ""

    @property
    def in_scope(self) -> bool:
        return bool(self.expected)


@dataclass(frozen=True)
class Ranked:
    """What an engine did with one question: its ranking and whether it answered."""

    ids: tuple[str, ...]
    answered: bool
    score: float = 0.0
    note: str = ""
    """Why the answer may differ from the ranking (a safety banner holding answers back)."""


@dataclass(frozen=True)
class Failure:
    question: str
    expected: tuple[str, ...]
    got: str | None
    """Entry shown first, or None for an abstention."""
    ranked_first: str | None
    """Entry ranked first, answered or not."""
    score: float
    note: str = ""


@dataclass(frozen=True)
class Report:
    in_scope: int
    out_of_scope: int
    acceptable_at_1: float
    mrr: float
    mrr_depth: int
    answered: float
    abstained: float
    ranked_first: float
    """In-scope questions whose top-ranked entry is acceptable, whatever the threshold."""
    failures: list[Failure] = field(default_factory=list)
    seen: int = 0
    """Questions the index holds as example questions: judged on what it learned from them, not first sight."""

    def as_dict(self) -> dict[str, object]:
        return {
            "in_scope": self.in_scope,
            "out_of_scope": self.out_of_scope,
            "acceptable_at_1": round(self.acceptable_at_1, 4) if self.in_scope else None,
            f"mrr_at_{self.mrr_depth}": round(self.mrr, 4) if self.in_scope else None,
            "answered_in_scope": round(self.answered, 4) if self.in_scope else None,
            "abstained_out_of_scope": round(self.abstained, 4) if self.out_of_scope else None,
            "ranked_first": round(self.ranked_first, 4) if self.in_scope else None,
            "seen_as_examples": self.seen,
            "failures": [failure.__dict__ for failure in self.failures],
        }


def load_labelled(path: Path) -> list[Labelled]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelledFileError(f"{path}: cannot read it ({exc})") from exc
    items: list[Labelled] = []
    for number, fields in labelled_lines(text):
        if isinstance(fields, str):
            raise LabelledFileError(f"{path}:{number}: {fields}")
        question = fields["question"]
        try:
            validate_question(question, 1)  # what `ask` would refuse, refused here with the line
        except InvalidQuestionError as exc:
            raise LabelledFileError(
                f"{path}:{number}: the question must be valid text of at most {QUESTION_MAX_CHARS} characters ({exc})"
            ) from exc
        items.append(Labelled(question, fields["expected"], str(fields.get("kind", fields.get("style", "")))))
    if not items:
        raise LabelledFileError(f"{path}: no labelled questions in it")
    return items


def score(items: Sequence[Labelled], ranked: Sequence[Ranked], mrr_depth: int = 3) -> Report:
    inside = [(item, r) for item, r in zip(items, ranked, strict=True) if item.in_scope]
    outside = [(item, r) for item, r in zip(items, ranked, strict=True) if not item.in_scope]
    failures: list[Failure] = []
    right = first = answered = 0
    reciprocal = 0.0
    for item, r in inside:
        top = r.ids[0] if r.ids else None
        ok = r.answered and top in item.expected
        right += ok
        first += top in item.expected
        answered += r.answered
        rank = next((n for n, i in enumerate(r.ids[:mrr_depth], start=1) if i in item.expected), None)
        reciprocal += 1 / rank if rank else 0.0
        if not ok:
            failures.append(Failure(item.question, item.expected, top if r.answered else None, top, r.score, r.note))
    abstained = 0
    for item, r in outside:
        abstained += not r.answered
        if r.answered:
            shown = r.ids[0] if r.ids else None
            failures.append(Failure(item.question, (), shown, shown, r.score, r.note))
    n_in, n_out = len(inside), len(outside)
    return Report(
        in_scope=n_in,
        out_of_scope=n_out,
        acceptable_at_1=right / n_in if n_in else 0.0,
        mrr=reciprocal / n_in if n_in else 0.0,
        mrr_depth=mrr_depth,
        answered=answered / n_in if n_in else 0.0,
        abstained=abstained / n_out if n_out else 0.0,
        ranked_first=first / n_in if n_in else 0.0,
        failures=failures,
    )


def evaluate(items: Sequence[Labelled], rank: Callable[[Sequence[str]], list[Ranked]], mrr_depth: int = 3) -> Report:
    return score(items, rank([item.question for item in items]), mrr_depth)
