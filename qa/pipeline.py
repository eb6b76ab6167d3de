"""Concurrent API questions answered together: a few threads take whatever has queued and ask it as one batch.

One thread per request, as a web framework runs a plain handler, makes 32 requests 32 threads that fight
over the interpreter lock for the Python half of every answer (spelling, BM25, the ranker, the safety
rules) while the model waits for them: measured in-process, 32 such threads answered 63 questions/s, fewer
than one thread alone (92/s). Here the event loop only queues the question; `workers` threads (two: while
one is in the model, which releases the lock, the other does the Python half of its batch) each take
everything queued, up to `max_batch`, and call `QAService.ask_many`, so the batch shares one model call.
Nothing waits on a timer: a lone request goes straight to an idle worker.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from dataclasses import dataclass

from qa.records import AskResult
from qa.service import QAService

WORKERS = 2
MAX_BATCH = 32
"""Questions in one batch: past this a batch's first answer waits longer than batching saves."""


@dataclass(frozen=True)
class _Asked:
    question: str
    top_k: int
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[AskResult]


class AskPipeline:
    def __init__(self, service: QAService, workers: int = WORKERS, max_batch: int = MAX_BATCH) -> None:
        self.service = service
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Asked | None] = queue.SimpleQueue()
        self._workers = workers
        self._threads: list[threading.Thread] = []
        self._starting = threading.Lock()
        self._counting = threading.Lock()
        self.batches = 0
        """Batches asked so far (with `questions`, how well requests were batched)."""
        self.questions = 0

    async def ask(self, question: str, top_k: int) -> AskResult:
        """`QAService.ask`, answered by a worker thread with whatever else is waiting."""
        if not self._threads:
            self._start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[AskResult] = loop.create_future()
        self._queue.put(_Asked(question, top_k, loop, future))
        return await future

    def _start(self) -> None:
        """On the first question, so an app that is built but never asked (the tests) starts no threads."""
        with self._starting:
            if not self._threads:
                self._threads = [
                    threading.Thread(target=self._work, name=f"qa-ask-{n}", daemon=True) for n in range(self._workers)
                ]
                for thread in self._threads:
                    thread.start()

    def close(self) -> None:
        """Stop the workers once the queue ahead of them is answered."""
        threads, self._threads = self._threads, []
        for _ in threads:
            self._queue.put(None)
        for thread in threads:
            thread.join(timeout=10)

    def _work(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    waiting = self._queue.get_nowait()
                except queue.Empty:
                    break
                if waiting is None:  # closing: answer this batch, then stop
                    self._queue.put(None)
                    break
                batch.append(waiting)
            self._answer(batch)

    def _answer(self, batch: list[_Asked]) -> None:
        with self._counting:  # two workers: `+=` alone could lose a count
            self.batches += 1
            self.questions += len(batch)
        try:
            results: list[AskResult | BaseException] = list(
                self.service.ask_many([(asked.question, asked.top_k) for asked in batch])
            )
        except Exception:  # one bad question must not fail the others: each alone, with its own error
            results = [self._alone(asked) for asked in batch]
        for asked, result in zip(batch, results, strict=True):
            asked.loop.call_soon_threadsafe(_settle, asked.future, result)

    def _alone(self, asked: _Asked) -> AskResult | BaseException:
        try:
            return self.service.ask(asked.question, asked.top_k)
        except Exception as exc:  # handed to the request that asked, raised there
            return exc


def _settle(future: asyncio.Future[AskResult], result: AskResult | BaseException) -> None:
    if future.cancelled():  # the client went away
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)
