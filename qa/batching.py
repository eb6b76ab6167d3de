"""Concurrent requests share one model call: micro-batching in front of any embedder.

One query at a time leaves most of the model's speed unused: a batch of 32 short questions costs little
more than one. Callers that bring a text or two each (the chat's handlers, each on its own thread) queue
here while the model is busy, and the next model call takes all of them (up to `max_batch` texts); a
caller that brings a batch (`BATCHED` texts or more: the API's pipeline, a re-index) has batched already
and goes straight to the model. Nothing waits on a timer: a request that finds the model idle goes
straight in, so a lone request pays no batching delay, and under load batches form by themselves from
what arrived during the previous call. The thread whose request is done hands the next batch to a
waiting thread, so no request's reply waits on other people's batches.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from qa.embedder import Embedder

MAX_BATCH = 64
"""Most texts in one model call: past this a batch pads more than it saves."""
BATCHED = 4
"""A call of this many texts or more has batched already and does not queue."""


@dataclass
class _Request:
    texts: Sequence[str]
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    """Set when this request's thread is to run the next batch."""
    vectors: np.ndarray | None = None
    error: BaseException | None = None


class BatchingEmbedder:
    """An `Embedder` whose `encode` may be called from many threads at once."""

    def __init__(self, inner: Embedder, max_batch: int = MAX_BATCH) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: deque[_Request] = deque()
        self._busy = False
        self.calls = 0
        """Model calls made through the queue (with `texts`, how well requests were batched)."""
        self.texts = 0

    def vocabulary(self) -> frozenset[str]:
        return self.inner.vocabulary()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) >= BATCHED:
            # Already a batch (the API's micro-batches, a re-index's thousands of texts): straight to the
            # model, which is safe from several threads, so it runs beside other calls instead of behind them.
            return self.inner.encode(texts)
        request = _Request(list(texts))
        with self._lock:
            self._queue.append(request)
            request.lead = not self._busy
            self._busy = True
        while not request.lead:
            request.done.wait()
            request.done.clear()
            if request.vectors is not None or request.error is not None:
                return self._result(request)
        try:
            while request.vectors is None and request.error is None:
                self._run(self._next_batch())
        finally:
            self._hand_over()  # whatever happened, the next request gets the model
        return self._result(request)

    @staticmethod
    def _result(request: _Request) -> np.ndarray:
        if request.error is not None:
            # A new exception per caller: one object raised in many threads would mix their tracebacks.
            raise RuntimeError(f"the model failed on a batch: {request.error}") from request.error
        assert request.vectors is not None
        return request.vectors

    def _next_batch(self) -> list[_Request]:
        with self._lock:
            batch = [self._queue.popleft()]
            size = len(batch[0].texts)
            while self._queue and size + len(self._queue[0].texts) <= self.max_batch:
                size += len(self._queue[0].texts)
                batch.append(self._queue.popleft())
            return batch

    def _run(self, batch: list[_Request]) -> None:
        try:
            texts = [text for request in batch for text in request.texts]
            vectors = self.inner.encode(texts)
            start = 0
            for request in batch:
                request.vectors = vectors[start : start + len(request.texts)]
                start += len(request.texts)
            self.calls += 1
            self.texts += len(texts)
        except BaseException as exc:  # every request of the batch gets the error; none hangs
            for request in batch:
                request.error = exc
        finally:
            for request in batch:
                request.done.set()

    def _hand_over(self) -> None:
        """The next queued request's thread runs the next batch; with none queued, the model is idle."""
        with self._lock:
            if self._queue:
                successor = self._queue[0]
                successor.lead = True
                successor.done.set()
            else:
                self._busy = False
