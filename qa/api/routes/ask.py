"""`POST /api/ask`: the fixed contract other apps rely on."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field, field_validator

from qa.api.deps import ServiceDep
from qa.errors import InvalidQuestionError
from qa.records import TOP_K_MAX, AskResult, validate_question
from qa.safety import DISCLAIMER

router = APIRouter(tags=["ask"])


class AskRequest(BaseModel):
    question: str = Field(description="The user's question, 1-1000 characters after trimming.")
    top_k: int = Field(default=3, ge=1, le=TOP_K_MAX, strict=True, description="How many answers at most (1-10).")

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
)
def ask(request: AskRequest, service: ServiceDep, response: Response) -> AskResult:
    # The body is a fixed contract, so the "not medical advice" note travels in a header.
    response.headers[DISCLAIMER_HEADER] = DISCLAIMER
    return service.ask(request.question, request.top_k)
