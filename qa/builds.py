"""The builds folder's pointer: which build is served (`CURRENT`), made current in one rename, and pruned.

Kept apart from the build's own files (`qa.index`) because everything that serves or switches an index
reads it: the engine follows `CURRENT`, a build and a rollback move it, and nothing else decides which
build is live.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from qa.errors import IndexMismatchError, IndexNotFoundError

__all__ = ["KEEP_BUILDS", "REBUILD", "current_build_dir", "point_at", "pointed_at", "prune", "write_synced"]

KEEP_BUILDS = 3
REBUILD = "run `qa index` to build it"


def write_synced(path: Path, data: bytes | memoryview) -> None:
    """Write and sync one file, so the build's files reach the disk before anything points at them."""
    with path.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def point_at(index_dir: Path, name: str) -> None:
    """Make build `name` current in one rename: a reader sees the old pointer or the new one."""
    pointer = index_dir / "CURRENT.tmp"
    try:
        write_synced(pointer, (name + "\n").encode())
        os.replace(pointer, index_dir / "CURRENT")
    except BaseException:
        with contextlib.suppress(OSError):
            pointer.unlink(missing_ok=True)
        raise


def pointed_at(index_dir: Path) -> str:
    try:
        return (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def prune(builds: Path, keep: str) -> None:
    """Keep the newest builds (by modification time), always including the current one."""
    done = sorted(
        (p for p in builds.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in [p for p in done if p.name != keep][KEEP_BUILDS - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


def current_build_dir(index_dir: Path) -> Path:
    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        raise IndexNotFoundError(f"no index in {index_dir}; {REBUILD}")
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexMismatchError(f"the index pointer {pointer} is unreadable; {REBUILD}") from exc
    folder = index_dir / "builds" / name
    if not name or "/" in name or not folder.is_dir():
        raise IndexNotFoundError(f"the index in {index_dir} points at a missing build; {REBUILD}")
    return folder
