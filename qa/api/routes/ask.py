"""`POST /api/ask`: the fixed contract other apps rely on."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field, field_validator

from qa.api.deps import ServiceDep
from qa.records import QUESTION_MAX_CHARS as QUESTION_MAX
from qa.records import TOP_K_MAX, AskResult

router = APIRouter(tags=["ask"])


class AskRequest(BaseModel):
    question: str = Field(description="The user's question, 1-1000 characters after trimming.")
    top_k: int = Field(default=3, ge=1, le=TOP_K_MAX, strict=True, description="How many answers at most (1-10).")

    @field_validator("question")
    @classmethod
    def _trimmed_length(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("question is empty; send a question of 1 to 1000 characters")
        if len(value) > QUESTION_MAX:
            raise ValueError(
                f"question is {len(value)} characters after trimming; shorten it to {QUESTION_MAX} or fewer"
            )
        return value


@router.post("/ask", response_model=AskResult, summary="Answer a question with verbatim, cited source passages")
def ask(request: AskRequest, service: ServiceDep) -> AskResult:
    return service.ask(request.question, request.top_k)
