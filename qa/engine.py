"""The engine a server runs: the one object that knows the settings and the model.

It serves through a `QAService` and changes the build under it without a
restart: `reload` (the newest build made current, by anyone), `reindex` (build
from the configured corpus, then reload), and `watch`, which reloads when
another process (`qa index`, another server worker, `qa index --rollback`)
makes a build current. A swap is one attribute assignment on the service, so a
request in flight finishes on the build it started with and none fails.
"""

from __future__ import annotations

import logging
import threading

from qa.batching import BatchingEmbedder
from qa.builder import BuildReport, build
from qa.builds import current_build_dir
from qa.config import Settings
from qa.embedder import Embedder, open_embedder
from qa.records import IndexInfo
from qa.service import open_retriever, open_service

__all__ = ["WATCH_SECONDS", "Engine"]

WATCH_SECONDS = 2.0
"""How often `watch` reads `CURRENT`: a build made current elsewhere is served within this."""
_log = logging.getLogger("qa.engine")


class Engine:
    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        # Concurrent requests share model calls (`qa.batching`); a re-index's one big call passes through.
        self.embedder = BatchingEmbedder(embedder or open_embedder(settings))
        self._changing = threading.Lock()  # one reload or re-index at a time; requests never take it
        self._served = current_build_dir(settings.index_dir).name
        self._refused = ""  # why the last refresh kept the old build: `watch` retries, the log says it once
        self.service = open_service(settings, self.embedder)

    @property
    def served(self) -> str:
        """Folder name of the build being served."""
        return self._served

    def reload(self) -> IndexInfo:
        """Serve the current build of the index folder (a no-op swap if it is already served)."""
        with self._changing:
            return self._reload()

    def _reload(self) -> IndexInfo:
        name = current_build_dir(self.settings.index_dir).name
        retriever = open_retriever(self.settings, self.embedder)  # any error here leaves the old build serving
        self.service.swap(retriever)
        self._served, self._refused = name, ""
        return self.service.index

    def reindex(self) -> BuildReport:
        """Build from the configured corpus and serve it; a corpus error raises with every problem listed."""
        with self._changing:
            report = build(self.settings.corpus, self.settings.index_dir, self.embedder)
            self._reload()
            return report

    def refresh(self) -> bool:
        """Reload if another process made another build current; True if it did."""
        try:
            if current_build_dir(self.settings.index_dir).name == self._served:
                return False
            with self._changing:
                if current_build_dir(self.settings.index_dir).name == self._served:
                    return False
                self._reload()
                return True
        except Exception as exc:  # a damaged or half-removed index, whatever it raises: keep serving
            if str(exc) != self._refused:
                _log.warning("index not reloaded, still serving %s: %s", self._served, exc)
                self._refused = str(exc)
            return False

    def watch(self, interval: float = WATCH_SECONDS) -> threading.Event:
        """Start a daemon thread that calls `refresh` every `interval` seconds; set the event to stop it."""
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(interval):
                self.refresh()

        threading.Thread(target=loop, name="qa-index-watch", daemon=True).start()
        return stop
