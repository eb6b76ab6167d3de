"""All settings in one place, read from `QA_*` environment variables (or `.env`)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = "all-MiniLM-L6-v2"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QA_", env_file=".env", extra="ignore")

    model: str = Field(
        default=DEFAULT_MODEL,
        description="Embedding model: a sentence-transformers name, or a folder holding one.",
    )
    backend: Literal["onnx", "onnx-int8", "torch"] = Field(
        default="onnx",
        description=(
            "How the model runs: ONNX Runtime (`onnx`, the default: the torch vectors to 1e-7, faster), its int8 "
            "quantisation (`onnx-int8`: faster still, slightly different vectors, needs its own index), or torch."
        ),
    )
    corpus: list[Path] = Field(
        default_factory=lambda: [PROJECT_ROOT / "corpus"],
        description="Corpus files or folders (JSON list in the environment).",
    )
    index_dir: Path = Field(default=PROJECT_ROOT / "index", description="Where builds are written.")
    model_threads: int | None = Field(
        default=None,
        ge=1,
        description="Threads one ONNX model call may use; default: all cores (`qa serve --workers N` gives each 1/N).",
    )
    model_cache: Path = Field(
        default=PROJECT_ROOT / ".cache" / "models",
        description="Where the ONNX backends keep their export of the model (made once per model, about 110 MB).",
    )
    abstain_threshold: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Answer chance under which the engine abstains; default: the fitted one (README: abstaining).",
    )
    feedback_db: Path = Field(
        default=PROJECT_ROOT / "data" / "feedback.sqlite3",
        description="SQLite file for chat thumbs up/down.",
    )
    feedback_enabled: bool = Field(default=True, description="Store chat feedback at all.")
    admin_token: SecretStr | None = Field(
        default=None,
        description="Bearer token for POST /api/admin/reindex and /reload; unset, those endpoints do not exist.",
    )
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Largest request body accepted, in bytes; a bigger one is refused with 413 before it is read.",
    )
    rate_limit: int = Field(
        default=300,
        ge=0,
        description="Requests per minute one client may send to /api/ask and the chat (0: no limit), per worker.",
    )
    rate_burst: int = Field(
        default=60, ge=1, description="Requests one client may send at once before `rate_limit` applies."
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description='Origins whose pages may call the API (JSON list, e.g. ["https://app.example"]); none by default.',
    )
    log_questions: bool = Field(
        default=False,
        description="Write question text into the application log (off: logs hold ids, timings and outcomes only).",
    )
    allow_hub: bool = Field(
        default=False,
        description=(
            "Let sentence-transformers fetch a model from the Hugging Face hub. Off (the default), HF_HUB_OFFLINE=1 "
            "is set, so a model that is neither a folder, packaged nor cached fails at once instead of retrying."
        ),
    )


def apply_hub_policy(allow_hub: bool) -> None:
    """Unless the hub is allowed, switch huggingface_hub to offline mode (and no telemetry).

    huggingface_hub reads HF_HUB_OFFLINE once, when it is first imported, so this must run before
    sentence-transformers or Gradio is imported; without it an unknown model name waits on a minute
    of retries to a hub the machine may not reach. Allowed, the environment is left as it is.
    """
    if not allow_hub:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


@lru_cache
def get_settings() -> Settings:
    """The settings from the environment, read once; applies the hub policy, as every command reads them first."""
    settings = Settings()
    apply_hub_policy(settings.allow_hub)
    return settings
