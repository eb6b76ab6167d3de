"""`POST /api/ask`: the fixed contract other apps rely on."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from qa import logs
from qa.api.deps import PipelineDep, SettingsDep
from qa.api.errors import responses
from qa.errors import InvalidQuestionError
from qa.records import QUESTION_MAX_CHARS, TOP_K_MAX, AskResult, validate_question
from qa.safety import DISCLAIMER

router = APIRouter(tags=["ask"])


class AskRequest(BaseModel):
    # Unknown fields are refused, not ignored: a misspelt "topk" would otherwise be silently dropped.
    model_config = ConfigDict(extra="forbid")

    question: str = Field(
        max_length=QUESTION_MAX_CHARS,
        # The schema states the service's rule: some text that is not whitespace (Python's notion of it).
        json_schema_extra={"pattern": r"\S"},
        description=f"The user's question: 1-{QUESTION_MAX_CHARS} characters, not only whitespace (trimmed).",
    )
    top_k: int = Field(default=3, ge=1, le=TOP_K_MAX, strict=True, description="How many answers at most (1-10).")

    @field_validator("top_k", mode="before")
    @classmethod
    def _integral(cls, value: object) -> object:
        # JSON Schema counts 3.0 as an integer, so a client may send it; "3" and true stay refused (strict).
        return int(value) if isinstance(value, float) and value.is_integer() else value

    @field_validator("question")
    @classmethod
    def _trimmed_length(cls, value: str) -> str:
        # The service's own rule, so the API and the CLI say the same thing (as a 422 here).
        try:
            return validate_question(value, top_k=1)
        except InvalidQuestionError as exc:
            raise ValueError(str(exc)) from None


DISCLAIMER_HEADER = "X-Disclaimer"


@router.post(
    "/ask",
    response_model=AskResult,
    summary="Answer a question with verbatim, cited source passages",
    description=f"Every answer comes with the note, in the `{DISCLAIMER_HEADER}` header: {DISCLAIMER}",
    responses=responses(400, 413, 422, 429, 500, 503),
)
async def ask(body: AskRequest, pipeline: PipelineDep, settings: SettingsDep, response: Response) -> AskResult:
    # The body is a fixed contract, so the "not medical advice" note travels in a header.
    response.headers[DISCLAIMER_HEADER] = DISCLAIMER
    result = await pipeline.ask(body.question, body.top_k)  # answered off the event loop, batched
    logs.log_answer(result, question=body.question if settings.log_questions else None)
    return result
