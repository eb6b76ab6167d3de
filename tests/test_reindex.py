"""Re-indexing as a maintainer does it: incremental builds, checks, kept builds, and a live server that
takes a new build without a restart and without failing a request. Real model, real FAISS, real HTTP."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from qa.builder import build
from qa.builds import current_build_dir
from qa.cli import app
from qa.config import Settings
from qa.embedder import Embedder, SentenceTransformerEmbedder
from qa.engine import Engine
from qa.index import list_builds
from tests.conftest import SEED_FILE, copy_seed_corpus
from tests.harness import serve

runner = CliRunner()
SEED = SEED_FILE
TOKEN = "s3cret-admin-token"



def _edit(folder: Path, old: str, new: str) -> None:
    path = folder / SEED.name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_rebuild_embeds_only_what_changed(tmp_path: Path, embedder: Embedder) -> None:
    corpus, index = copy_seed_corpus(tmp_path), tmp_path / "index"
    first = build([corpus], index, embedder)
    assert len(first.changes.added) == 12 and first.embedded == first.manifest.rows and first.cached == 0
    again = build([corpus], index, embedder)
    assert again.changes.unchanged == 12 and not again.changes.changed and again.embedded == 0
    _edit(corpus, "It is completely normal", "It is entirely normal")
    edited = build([corpus], index, embedder)
    assert edited.changes.changed == ("is-baby-face-twitching-normal",)
    assert edited.changes.unchanged == 11
    assert edited.embedded == 2  # its answer and its joint text; its question is unchanged
    (corpus / "more.md").write_text("## Can babies hiccup in the womb?\n\nYes, from about 15 weeks.\n")
    added = build([corpus], index, embedder)
    assert added.changes.added == ("can-babies-hiccup-in-the-womb",) and added.embedded == 3


def test_check_reports_every_problem_before_any_model_loads(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text("## Is twitching normal?\n\n## Why do babies jerk?\n\nStartle reflex.\n")
    (corpus / "b.csv").write_text("question,answer\nIs twitching normal?,Yes.\nWhat is EEG?,\n")
    (corpus / "notes.pdf").write_bytes(b"%PDF")
    script = (
        "import sys\nfrom qa.cli import app\n"
        f"try:\n    app(['index', '--check', '--corpus', {str(corpus)!r}], standalone_mode=False)\n"
        "except SystemExit:\n    pass\n"
        "heavy = ('torch', 'sentence_transformers', 'faiss', 'sklearn')\n"
        "print('loaded:', sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    assert "loaded: []" in done.stdout, output
    assert "notes.pdf: unsupported corpus format '.pdf'" in output
    assert "b.csv:3:" in output  # the empty answer, on its own line
    assert "duplicate question" in output and "a.md:" in output
    result = runner.invoke(app, ["index", "--check", "--corpus", str(corpus), "--index-dir", str(tmp_path / "i")])
    assert result.exit_code == 1
    assert "errors" in result.output and not (tmp_path / "i").exists()


def test_list_and_rollback(tmp_path: Path) -> None:
    corpus, index = copy_seed_corpus(tmp_path), tmp_path / "index"
    assert runner.invoke(app, ["index", "-q", "--corpus", str(corpus), "--index-dir", str(index)]).exit_code == 0
    older = current_build_dir(index).name
    assert runner.invoke(app, ["index", "--rollback", "--index-dir", str(index)]).exit_code == 1  # nothing older
    _edit(corpus, "It is completely normal", "It is entirely normal")
    made = runner.invoke(app, ["index", "-q", "--corpus", str(corpus), "--index-dir", str(index)])
    assert "0 added, 1 changed, 0 removed, 11 unchanged" in made.output
    newer = current_build_dir(index).name
    listed = runner.invoke(app, ["index", "--list", "--index-dir", str(index)])
    assert listed.exit_code == 0
    assert f"* {newer}" in listed.output and f"  {older}" in listed.output and "12 entries" in listed.output
    back = runner.invoke(app, ["index", "--rollback", "--index-dir", str(index)])
    assert back.exit_code == 0, back.output
    assert current_build_dir(index).name == older
    assert [b.name for b in list_builds(index)] == [newer, older]  # the newer build is kept, for a roll forward


@pytest.fixture()
def engine(tmp_path: Path, embedder: Embedder) -> Engine:
    corpus = copy_seed_corpus(tmp_path)
    settings = Settings(corpus=[corpus], index_dir=tmp_path / "index", admin_token=TOKEN,
                        feedback_db=tmp_path / "feedback.sqlite3")
    build(settings.corpus, settings.index_dir, embedder)
    return Engine(settings, embedder)


@pytest.fixture()
def admin(engine: Engine) -> Iterator[httpx.Client]:
    from qa.api import create_app

    for server in serve(create_app(engine.service, engine.settings, engine)):
        with httpx.Client(base_url=server.url, timeout=60) as http:
            yield http


def test_admin_routes_do_not_exist_without_a_token(engine: Engine) -> None:
    from qa.api import create_app

    for server in serve(create_app(engine.service, engine.settings.model_copy(update={"admin_token": None}), engine)):
        assert httpx.post(f"{server.url}/api/admin/reload").status_code == 404
        assert httpx.post(f"{server.url}/api/admin/reindex").status_code == 404


def test_admin_routes_need_the_bearer_token(admin: httpx.Client) -> None:
    assert admin.post("/api/admin/reload").status_code == 401
    wrong = admin.post("/api/admin/reload", headers={"Authorization": f"Bearer {TOKEN}x"})
    assert wrong.status_code == 401 and "Bearer" in wrong.json()["detail"]
    assert admin.post("/api/admin/reload", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    assert admin.post("/api/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_reindex_serves_the_new_build_without_failing_a_request(engine: Engine, admin: httpx.Client) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    before = admin.get("/api/health").json()["index_version"]
    statuses: list[int] = []
    stop = threading.Event()

    def ask_all_the_time() -> None:
        while not stop.is_set():
            statuses.append(admin.post("/api/ask", json={"question": "why does my baby twitch?"}).status_code)

    asker = threading.Thread(target=ask_all_the_time)
    asker.start()
    at_switch = 0
    try:
        deadline = time.monotonic() + 30
        while not statuses and time.monotonic() < deadline:  # asking before the re-index starts
            time.sleep(0.01)
        corpus = engine.settings.corpus[0]
        _edit(corpus, "It is completely normal", "It is entirely normal")
        done = admin.post("/api/admin/reindex", headers=auth)
        assert done.status_code == 200, done.text
        body = done.json()
        assert body["changed"] == ["is-baby-face-twitching-normal"] and body["embedded"] == 2
        assert admin.get("/api/health").json()["index_version"] == body["index_version"] != before
        (corpus / "broken.jsonl").write_text('{"question": "Is it?", "answer": ""}\n')
        refused = admin.post("/api/admin/reindex", headers=auth)
        assert refused.status_code == 422
        assert refused.json()["problems"][0]["source"] == "broken.jsonl"
        assert admin.get("/api/health").json()["index_version"] == body["index_version"]
        assert admin.post("/api/admin/reload", headers=auth).status_code == 200
        at_switch = len(statuses)
        deadline = time.monotonic() + 30
        while len(statuses) < at_switch + 3 and time.monotonic() < deadline:  # a few more on the new build
            time.sleep(0.05)
    finally:
        stop.set()
        asker.join()
    assert len(statuses) >= at_switch + 3 and set(statuses) == {200}


def test_a_server_follows_a_build_made_current_elsewhere(engine: Engine, embedder: Embedder) -> None:
    stop = engine.watch(interval=0.2)
    try:
        corpus = engine.settings.corpus[0]
        _edit(corpus, "It is completely normal", "It is entirely normal")
        made = build([corpus], engine.settings.index_dir, embedder)  # as `qa index` or another worker would
        deadline = time.monotonic() + 10
        while engine.service.index.version != made.manifest.version and time.monotonic() < deadline:
            time.sleep(0.1)
        assert engine.service.index.version == made.manifest.version
        assert "entirely normal" in engine.service.ask("is baby face twitching normal?").answers[0].text
    finally:
        stop.set()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_every_worker_process_follows_a_build_made_current_elsewhere(
    tmp_path: Path, embedder: Embedder
) -> None:
    import os
    import signal

    corpus, index, port = copy_seed_corpus(tmp_path), tmp_path / "index", _free_port()
    env = {**os.environ, "QA_FEEDBACK_DB": str(tmp_path / "feedback.sqlite3")}
    command = [str(Path(sys.executable).parent / "qa"), "serve", "--workers", "2", "--port", str(port),
               "--corpus", str(corpus), "--index-dir", str(index)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              start_new_session=True)
    url = f"http://127.0.0.1:{port}/api/health"

    def versions(count: int) -> set[str]:
        return {httpx.get(url, timeout=10).json()["index_version"] for _ in range(count)}  # a new connection each

    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                before = versions(1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
                assert time.monotonic() < deadline, "the workers did not start"
                time.sleep(0.5)
        time.sleep(3)  # both workers up (the second may still be loading its model)
        assert len(versions(20)) == 1
        _edit(corpus, "It is completely normal", "It is entirely normal")
        made = build([corpus], index, embedder).manifest.version  # as `qa index` would, from outside
        assert {made} != before
        deadline = time.monotonic() + 15
        while versions(20) != {made}:
            assert time.monotonic() < deadline, "a worker still serves the old build"
            time.sleep(0.5)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_a_progress_bar_only_when_asked_for(capfd: pytest.CaptureFixture[str]) -> None:
    texts = [f"question number {n}" for n in range(300)]
    quiet = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    quiet.encode(texts)
    assert "Batches" not in capfd.readouterr().err
    shown = SentenceTransformerEmbedder("all-MiniLM-L6-v2", progress=True)
    shown.encode(texts)
    assert "Batches" in capfd.readouterr().err
    made = runner.invoke(app, ["index", "--index-dir", "/nonexistent/\0"])  # typer's runner is not a terminal
    assert "Batches" not in made.output
