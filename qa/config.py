"""All settings in one place, read from `QA_*` environment variables (or `.env`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

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
    corpus: list[Path] = Field(
        default_factory=lambda: [PROJECT_ROOT / "corpus"],
        description="Corpus files or folders (JSON list in the environment).",
    )
    index_dir: Path = Field(default=PROJECT_ROOT / "index", description="Where builds are written.")
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


@lru_cache
def get_settings() -> Settings:
    return Settings()
