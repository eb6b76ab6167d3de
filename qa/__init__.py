"""Retrieval-based Q&A over curated consumer-health content.

Pipeline, one module per step:
    loaders (corpus files -> Entry) -> embedder -> index (versioned folder)
    -> retriever -> safety -> service.ask (one AskResult)
Front ends: cli (qa), api (FastAPI), ui (Gradio chat); all call `QAService.ask`.
"""

from qa.config import Settings, get_settings
from qa.errors import (
    CorpusError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexWriteError,
    InvalidQuestionError,
    LabelledFileError,
    ModelLoadError,
    QAError,
    RankerFileError,
)
from qa.loaders import load_corpus
from qa.records import Answer, AskResult, Citation, Entry, IndexInfo, RedFlag, Suggestion

_LAZY = {"BuildReport": "builder", "build": "builder", "QAService": "service", "open_service": "service"}


def __getattr__(name: str) -> object:
    """The service (FAISS, NumPy, scikit-learn) is imported on first use, so `qa index --check` and
    `qa --help` start in a fraction of a second."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"qa.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'qa' has no attribute {name!r}")

__all__ = [
    "Answer",
    "AskResult",
    "BuildReport",
    "Citation",
    "CorpusError",
    "Entry",
    "IndexInfo",
    "IndexMismatchError",
    "IndexNotFoundError",
    "IndexWriteError",
    "InvalidQuestionError",
    "LabelledFileError",
    "ModelLoadError",
    "QAError",
    "QAService",
    "RankerFileError",
    "RedFlag",
    "Settings",
    "Suggestion",
    "build",
    "get_settings",
    "load_corpus",
    "open_service",
]
