"""Typed records passed between the steps of the pipeline.

They are frozen pydantic models so that the API can return them as they are:
`AskResult` *is* the JSON contract of `POST /api/ask`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from qa.errors import InvalidQuestionError

QUESTION_MAX_CHARS = 1000
"""Longest question accepted, after trimming (part of the API contract)."""
MESSAGE_MAX_CHARS = 20_000
"""Longest message the red-flag check reads whole (`QAService.red_flag`): a pasted story, not a question."""
TOP_K_MAX = 10
"""Most answers a caller may ask for (part of the API contract)."""


def clean_text(text: str, what: str) -> str:
    """The trimmed text, or an `InvalidQuestionError` if it is not valid text or empty."""
    text = text.strip()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates: from bad bytes on a command line, or "\udcff" in JSON
        raise InvalidQuestionError(
            f"the {what} contains characters that are not valid text (at position {exc.start}); send UTF-8 text"
        ) from exc
    if not text:
        raise InvalidQuestionError(f"the {what} is empty: type a {what}")
    return text


def validate_question(question: str, top_k: int) -> str:
    """The trimmed question, or an `InvalidQuestionError` that says what to fix."""
    text = clean_text(question, "question")
    if len(text) > QUESTION_MAX_CHARS:
        raise InvalidQuestionError(
            f"the question is {len(text)} characters long; shorten it to {QUESTION_MAX_CHARS} or fewer"
        )
    if not 1 <= top_k <= TOP_K_MAX:
        raise InvalidQuestionError(f"top_k must be between 1 and {TOP_K_MAX}, not {top_k}")
    return text


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Entry(_Frozen):
    """One curated Q&A passage, exactly as the maintainer wrote it."""

    id: str = Field(description="Stable id: unchanged when other entries change.")
    questions: tuple[str, ...] = Field(description="Main question first, then alternates.")
    answer: str = Field(description="Verbatim answer text.")
    source: str = Field(description="File the entry comes from, relative to the corpus root.")
    lines: tuple[int, int] = Field(description="1-based first and last line of the answer.")
    url: str | None = None
    publisher: str | None = Field(default=None, description="Optional origin named by the corpus.")
    title: str | None = Field(default=None, description="Title of the source document (sidecar or front matter).")
    reviewed: str | None = Field(default=None, description="When the source was last reviewed, as given.")
    reassuring: bool = Field(
        default=False,
        description="The answer tells a parent that something is normal; held back while a banner shows.",
    )

    @property
    def question(self) -> str:
        return self.questions[0]


class Example(_Frozen):
    """A question as people ask it, labelled with the entries that answer it (none: the corpus does not)."""

    question: str
    entries: tuple[str, ...] = Field(description="Ids of the entries that answer it; empty: none does.")
    set: str = Field(description="The labelled set it comes from, so a fit can leave that set out.")
    source: str = Field(description="File it comes from, relative to the corpus root.")
    line: int


class Citation(_Frozen):
    source: str = Field(description="Corpus file, relative to the corpus root.")
    question: str = Field(description="The source question this answer belongs to.")
    lines: tuple[int, int] = Field(description="1-based line span of the answer in the source file.")
    url: str | None = None
    title: str | None = Field(default=None, description="Title of the source document (from its metadata).")
    publisher: str | None = Field(default=None, description="Who published the source (from its metadata).")
    reviewed: str | None = Field(default=None, description="When the source was last reviewed, as given.")


class Answer(_Frozen):
    id: str
    text: str = Field(description="The source answer, verbatim.")
    score: float = Field(
        ge=0.0,
        le=1.0,
        description="The ranker's chance that this entry answers the question, calibrated for the first answer.",
    )
    citation: Citation


class RedFlag(_Frozen):
    triggered: bool = False
    tier: str | None = Field(default=None, description='"emergency" or "urgent" when triggered.')
    terms: list[str] = Field(default_factory=list, description="Matched red-flag concepts.")
    banner: str | None = Field(default=None, description="Fixed, reviewed banner text.")


class IndexInfo(_Frozen):
    version: str
    entries: int


class Suggestion(_Frozen):
    """A nearby source question, offered when the engine abstains or as a related question."""

    id: str
    question: str
    score: float


class AskResult(_Frozen):
    question: str
    abstained: bool
    answers: list[Answer]
    red_flag: RedFlag
    index: IndexInfo
    # Internal to the front ends (chat suggestions); not part of the fixed JSON contract.
    suggestions: list[Suggestion] = Field(default_factory=list, exclude=True)
