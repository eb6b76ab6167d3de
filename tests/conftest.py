"""Shared fixtures: the real model, a real index build, a real server on 127.0.0.1."""

from __future__ import annotations

import os

# Before anything imports huggingface_hub or gradio: no hub, no telemetry.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("GRADIO_HEARTBEAT_INTERVAL", "0.5")
# The suite sends bursts from one address; tests of the rate limit set their own (tests/test_contract.py).
os.environ.setdefault("QA_RATE_LIMIT", "0")

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from qa.builder import build
from qa.config import PROJECT_ROOT, Settings
from qa.embedder import Embedder, open_embedder
from qa.service import QAService, open_service
from tests.chat_page import browser, chat_server, chat_settings, page, phone  # noqa: F401  (shared browser fixtures)
from tests.harness import LiveServer, serve

_LOCAL = {"127.0.0.1", "localhost", "::1", "0.0.0.0", "", None}


def _no_outside_lookups(event: str, args: tuple[object, ...]) -> None:
    """Any name lookup for a host other than this machine fails the test that made it."""
    if event == "socket.getaddrinfo" and args[0] not in _LOCAL:
        raise OSError(f"test tried to reach {args[0]!r}: nothing may leave 127.0.0.1")


sys.addaudithook(_no_outside_lookups)

DATA = Path(__file__).parent / "data"
SEED_CORPUS = PROJECT_ROOT / "corpus"


SEED_FILE = SEED_CORPUS / "infant_seizures_faq.txt"


def copy_seed_corpus(tmp_path: Path) -> Path:
    """A corpus folder of one's own (a copy of the seed file), for tests that edit or break it."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SEED_FILE, folder / SEED_FILE.name)
    return folder


def read_jsonl(name: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in (DATA / name).read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The model on the default backend (its ONNX export made once, in the project's model cache)."""
    return open_embedder(Settings())


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("qa")
    return Settings(corpus=[SEED_CORPUS], index_dir=root / "index", feedback_db=root / "feedback.sqlite3")


@pytest.fixture(scope="session")
def service(settings: Settings, embedder: Embedder) -> QAService:
    build(settings.corpus, settings.index_dir, embedder)
    return open_service(settings, embedder)


@pytest.fixture(scope="session")
def live_server(service: QAService, settings: Settings) -> Iterator[LiveServer]:
    from qa.web import create_web_app

    yield from serve(create_web_app(service, settings))


@pytest.fixture()
def client(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        yield http
