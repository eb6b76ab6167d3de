"""The exceptions the engine raises.

Every user-facing failure is a `QAError`; front ends catch that one class and
print (CLI) or return (API) its message, so no traceback reaches a user.

    QAError
    ├── CorpusError          a corpus file is missing, unreadable or malformed
    ├── IndexNotFoundError   no index has been built in the index folder yet
    ├── IndexMismatchError   the index was built with another model or format, or is damaged
    ├── IndexWriteError      a build could not be written: no room, no permission (the previous one keeps serving)
    ├── ModelLoadError       the embedding model cannot be found or loaded
    ├── InvalidQuestionError the question is empty, too long or top_k out of range
    ├── RankerFileError      the fitted ranker or question-type file is missing, damaged or out of date
    └── LabelledFileError    a labelled question file (`qa eval`) is missing or malformed
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qa.loaders.common import Problem

__all__ = [
    "CorpusError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "IndexWriteError",
    "InvalidQuestionError",
    "LabelledFileError",
    "ModelLoadError",
    "QAError",
    "RankerFileError",
]


class QAError(Exception):
    """Base class: its message is written for the person who has to fix it."""


class CorpusError(QAError):
    """A corpus file cannot be used; the message names the file and line.

    `problems` holds every problem found, warnings too, as records an API can
    return as JSON (empty when the error is not about the corpus content).
    """

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[Problem, ...] = tuple(problems)


class IndexNotFoundError(QAError):
    """The index folder holds no build."""


class IndexMismatchError(QAError):
    """The build on disk cannot be used with the current model or code."""


class IndexWriteError(QAError):
    """The index folder cannot be written (or the disk is full); nothing already served is touched."""


class ModelLoadError(QAError):
    """The embedding model could not be loaded."""


class InvalidQuestionError(QAError):
    """The question or its options are out of bounds."""


class LabelledFileError(QAError):
    """A labelled question file cannot be used; the message names the line."""


class RankerFileError(QAError):
    """A fitted model file shipped in `qa/data` cannot be used; refit with scripts/fit_ranker.py."""
