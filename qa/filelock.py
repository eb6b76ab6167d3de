"""One process at a time in a section, across processes: an `fcntl` lock on a file in a folder.

Local to one host: `fcntl` locks are not to be trusted on network file systems (README: replicas).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive(folder: Path) -> Iterator[None]:
    """Held while the block runs; a second process waits here until the first leaves."""
    with (folder / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
