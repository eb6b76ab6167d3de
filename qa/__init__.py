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
from qa.service import BuildReport, QAService, build, open_service

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
