"""The API's micro-batches, on the real service: concurrent questions share batches, each gets its own
answer (the one `ask` gives it alone), and a bad question fails only itself."""

from __future__ import annotations

import asyncio

import pytest

from qa.errors import InvalidQuestionError
from qa.pipeline import AskPipeline
from qa.records import AskResult
from qa.service import QAService

QUESTIONS = [
    "is it normal my newborns face twitches when hes sleeping",
    "what causes infantile spasms",
    "how long do spasms last",
    "my baby is not breathing and has gone blue",
    "what time does the post office close",
    "do babies with west syndrome still smile",
    "febrile seizure what does it look like",
    "baby jerks right after waking up",
]


def _same(one: AskResult, other: AskResult) -> bool:
    return one.model_dump() == other.model_dump()


def test_concurrent_questions_share_batches_and_each_gets_its_own_answer(service: QAService) -> None:
    pipeline = AskPipeline(service)
    asked = [(QUESTIONS[n % len(QUESTIONS)], 1 + n % 4) for n in range(48)]

    async def all_at_once() -> list[AskResult]:
        return await asyncio.gather(*(pipeline.ask(question, top_k) for question, top_k in asked))

    try:
        results = asyncio.run(all_at_once())
    finally:
        pipeline.close()
    for (question, top_k), result in zip(asked, results, strict=True):
        assert _same(result, service.ask(question, top_k)), question
    assert pipeline.questions == len(asked)
    assert pipeline.batches < len(asked)  # some shared a model call


def test_a_bad_question_fails_alone(service: QAService) -> None:
    pipeline = AskPipeline(service, workers=1)

    async def mixed() -> list[AskResult | BaseException]:
        return await asyncio.gather(
            pipeline.ask(QUESTIONS[0], 3), pipeline.ask("   ", 3), pipeline.ask(QUESTIONS[1], 3), return_exceptions=True
        )

    try:
        good, bad, other = asyncio.run(mixed())
    finally:
        pipeline.close()
    assert isinstance(bad, InvalidQuestionError)
    assert isinstance(good, AskResult) and _same(good, service.ask(QUESTIONS[0], 3))
    assert isinstance(other, AskResult) and _same(other, service.ask(QUESTIONS[1], 3))


def test_ask_many_is_ask_for_each(service: QAService) -> None:
    together = service.ask_many([(question, 2) for question in QUESTIONS])
    assert [r.model_dump() for r in together] == [service.ask(q, 2).model_dump() for q in QUESTIONS]
    with pytest.raises(InvalidQuestionError):
        service.ask_many([(QUESTIONS[0], 2), ("", 2)])
