"""The `ask` service: the one entry point every front end uses.

It owns the pipeline after the index: retrieval, the abstain decision,
citations and the safety check, and returns one `AskResult`. The CLI, the JSON
API and the chat call `ask` (the chat also `red_flag`, for a message too long to
ask) and never reach past it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from qa.config import Settings
from qa.embedder import Embedder, open_embedder
from qa.errors import InvalidQuestionError, LabelledFileError
from qa.evaluate import Labelled, Ranked, Report, evaluate
from qa.index import load_index
from qa.qtype import QuestionTypes
from qa.query import shipped_synonyms
from qa.ranker import Ranker
from qa.records import (
    MESSAGE_MAX_CHARS,
    TOP_K_MAX,
    Answer,
    AskResult,
    Citation,
    IndexInfo,
    RedFlag,
    Suggestion,
    clean_text,
    validate_question,
)
from qa.retriever import Found, Hit, Retriever
from qa.safety import RedFlagDetector

SUGGESTIONS = 3


def _answer(hit: Hit) -> Answer:
    entry = hit.entry
    return Answer(
        id=entry.id,
        text=entry.answer,
        score=round(hit.score, 4),
        citation=Citation(
            source=entry.source,
            question=hit.matched_question,
            lines=entry.lines,
            url=entry.url,
            title=entry.title,
            publisher=entry.publisher,
            reviewed=entry.reviewed,
        ),
    )


def select_hits(
    hits: Sequence[Hit], top_k: int, abstain_threshold: float, red_flag: RedFlag
) -> tuple[list[Hit], list[Hit]]:
    """(hits shown as answers, hits offered as related questions), best first. Pure.

    Under a banner a reply must never reassure against it: "it is completely normal" right below
    "see a doctor today" tells a worried parent to wait. So while the red flag is up, entries
    marked `reassuring` are neither answers nor suggestions. An emergency needs action, not
    reading, so it gets no related questions at all; an urgent notice keeps only those at or above
    the abstain threshold, so they stay on what the message is about rather than wander.
    """
    flagged = red_flag.triggered
    usable = [hit for hit in hits if not (flagged and hit.entry.reassuring)]
    answers = [hit for hit in usable if hit.score >= abstain_threshold][:top_k]
    shown = {hit.entry.id for hit in answers}
    related = [hit for hit in usable if hit.entry.id not in shown]
    if flagged and red_flag.tier != "urgent":  # emergency (or a tier we do not know): nothing to browse
        related = []
    elif flagged:
        related = [hit for hit in related if hit.score >= abstain_threshold]
    return answers, related[:SUGGESTIONS]


def _index_info(retriever: Retriever) -> IndexInfo:
    manifest = retriever.build.manifest
    return IndexInfo(version=manifest.version, entries=manifest.entries)


class QAService:
    def __init__(self, retriever: Retriever, detector: RedFlagDetector) -> None:
        self._retriever = retriever
        self._detector = detector

    @property
    def index(self) -> IndexInfo:
        return _index_info(self._retriever)

    def swap(self, retriever: Retriever) -> None:
        """Serve another build from now on; requests in flight finish on the old one.

        One attribute assignment is atomic, and `ask` reads the attribute once per request.
        """
        self._retriever = retriever

    def red_flag(self, message: str) -> RedFlag:
        """The safety check alone, on the whole message, however long (up to `MESSAGE_MAX_CHARS`).

        For a message too long to `ask`: the front end still shows the banner it calls for, since a
        sign at the end of a long story ("... and he is not breathing") must not go unread.
        """
        text = clean_text(message, "message")
        if len(text) > MESSAGE_MAX_CHARS:
            raise InvalidQuestionError(
                f"the message is {len(text)} characters long; the most that can be read is {MESSAGE_MAX_CHARS}"
            )
        return self._detector.check(text)

    def evaluate(self, items: Sequence[Labelled], unseen: bool = False) -> Report:
        """Every labelled question asked as a user would ask it, scored (`qa eval`, the suite's floors).

        With `unseen`, the index's example questions that these questions are (give or take typing) are set
        aside first, so a set the index learned from is judged as if it were new.
        """
        retriever = self._retriever
        known = {entry.id for entry in retriever.build.entries}
        unknown = sorted({i for item in items for i in item.expected} - known)
        if unknown:
            raise LabelledFileError(
                f"expected entry ids not in the index: {', '.join(unknown[:5])}"
                + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
                + "; fix the file or re-index"
            )
        questions = [item.question for item in items]
        seen = retriever.known_examples(questions)
        judge = QAService(retriever.leaving_out(questions=questions), self._detector) if unseen and seen else self
        depth = TOP_K_MAX - SUGGESTIONS
        report = evaluate(items, lambda asked: [_ranked(r) for r in judge.ask_many([(q, depth) for q in asked])])
        return dataclasses.replace(report, seen=0 if unseen else seen)

    def ask(self, question: str, top_k: int = 3) -> AskResult:
        return self.ask_many([(question, top_k)])[0]

    def ask_many(self, asked: Sequence[tuple[str, int]]) -> list[AskResult]:
        """Each (question, top_k) answered as `ask` would, with one model call for them all (the API's
        micro-batches). Raises on the first invalid question: callers validate first."""
        checked = [(validate_question(question, top_k), top_k) for question, top_k in asked]
        retriever = self._retriever  # one build for the whole batch, even during a swap
        found = retriever.find_many([text for text, _ in checked], TOP_K_MAX + SUGGESTIONS)
        return [self._result(retriever, text, top_k, one) for (text, top_k), one in zip(checked, found, strict=True)]

    def _result(self, retriever: Retriever, text: str, top_k: int, found: Found) -> AskResult:
        # Read from the user's own words, whatever retrieval finds (also when it abstains), with the one
        # embedding of the message that retrieval made.
        red_flag = self._detector.check(text, found.vector)
        answers, related = select_hits(found.hits[: top_k + SUGGESTIONS], top_k, retriever.threshold, red_flag)
        return AskResult(
            question=text,
            abstained=not answers,
            answers=[_answer(hit) for hit in answers],
            red_flag=red_flag,
            index=_index_info(retriever),
            suggestions=[
                Suggestion(id=hit.entry.id, question=hit.entry.question, score=round(hit.score, 4))
                for hit in related
            ],
        )


def _ranked(result: AskResult) -> Ranked:
    shown = [(a.id, a.score) for a in result.answers] + [(s.id, s.score) for s in result.suggestions]
    flag = result.red_flag
    note = f"{flag.tier} banner ({', '.join(flag.terms)}): reassuring answers held back" if flag.triggered else ""
    return Ranked(tuple(i for i, _ in shown), not result.abstained, shown[0][1] if shown else 0.0, note)


def open_retriever(settings: Settings, embedder: Embedder) -> Retriever:
    build_ = load_index(settings.index_dir, embedder)
    return Retriever.create(
        build_,
        embedder,
        Ranker.load(),
        shipped_synonyms(),
        QuestionTypes.load(),
        threshold=settings.abstain_threshold,
    )


def open_service(settings: Settings, embedder: Embedder | None = None) -> QAService:
    """Load the model and the current index build; raises a `QAError` a user can act on."""
    embedder = embedder or open_embedder(settings)
    retriever = open_retriever(settings, embedder)  # first: a missing index fails fast
    # The safety bank's vectors depend on the model alone, so they are cached beside its export, for every index.
    detector = RedFlagDetector(known_words=embedder.vocabulary(), embedder=embedder, cache_dir=settings.model_cache)
    _one_thread_for_small_sums()
    return QAService(retriever, detector)


def _one_thread_for_small_sums() -> None:
    """numpy's BLAS and FAISS's OpenMP start a thread per core for every product, and those threads spin
    after it. A message's products are small (a few vectors against a few thousand), so the threads
    gain nothing and take the cores from the model, which has its own: measured on 2 cores, batches of
    32 questions cost 12.4 core-ms each with them and 8.5 with one thread. Set once per process, for
    the libraries loaded by now (the model, the index and the safety classifier have been)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
