"""Micro-batching: every caller gets its own vectors, concurrent callers share model calls, errors reach all.

Pure logic, so a fake embedder stands in for the model: it records each call and is slow enough
for requests to pile up behind it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from qa.batching import BATCHED, BatchingEmbedder


class SlowFake:
    model_id, dimension = "fake", 4

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[int] = []
        self.fail_on = fail_on
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:  # the model is one resource: calls never overlap
            self.calls.append(len(texts))
            time.sleep(0.01)
            if self.fail_on in texts:
                raise RuntimeError("the model broke")
            # Each text's vector is derived from the text alone, so a mix-up between requests shows.
            return np.array([[len(t), ord(t[0]), ord(t[-1]), 1.0] for t in texts], dtype=np.float32)

    def vocabulary(self) -> frozenset[str]:
        return frozenset({"baby"})


def expected(texts: Sequence[str]) -> np.ndarray:
    return np.array([[len(t), ord(t[0]), ord(t[-1]), 1.0] for t in texts], dtype=np.float32)


def test_a_lone_call_goes_straight_to_the_model() -> None:
    fake = SlowFake()
    batcher = BatchingEmbedder(fake)
    assert np.array_equal(batcher.encode(["ab", "xyz"]), expected(["ab", "xyz"]))
    assert fake.calls == [2]
    assert (batcher.model_id, batcher.dimension, batcher.vocabulary()) == ("fake", 4, frozenset({"baby"}))


def test_concurrent_callers_each_get_their_own_vectors_from_shared_calls() -> None:
    fake = SlowFake()
    batcher = BatchingEmbedder(fake, max_batch=16)
    requests = [[f"q{n}a", f"question {n}?"][: 1 + n % 2] for n in range(60)]
    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(batcher.encode, requests))
    for texts, vectors in zip(requests, results, strict=True):
        assert np.array_equal(vectors, expected(texts))
    assert sum(fake.calls) == sum(len(r) for r in requests)
    assert len(fake.calls) < len(requests) / 2, f"requests were not batched: {fake.calls}"
    assert max(fake.calls) <= 16


@pytest.mark.parametrize("size", [BATCHED, 100])
def test_a_call_that_is_already_a_batch_goes_past_the_queue(size: int) -> None:
    fake = SlowFake()
    texts = [f"text {n}" for n in range(size)]
    batcher = BatchingEmbedder(fake, max_batch=8)
    assert np.array_equal(batcher.encode(texts), expected(texts))
    assert fake.calls == [size]
    # Past the queue: a re-index never holds questions up, and the API's micro-batches run side by side.
    assert batcher.calls == 0
    batcher.encode(texts[: BATCHED - 1])
    assert batcher.calls == 1  # fewer texts queue, to be batched with other callers'


def test_a_broken_model_result_fails_its_batch_and_frees_the_model() -> None:
    class ReturnsNothing(SlowFake):
        def encode(self, texts: Sequence[str]) -> np.ndarray:
            return None  # type: ignore[return-value]

    batcher = BatchingEmbedder(ReturnsNothing())
    for _ in range(2):  # the second call would hang if the first had kept the model
        with pytest.raises(RuntimeError, match="the model failed"):
            batcher.encode(["x"])


def test_a_failing_call_raises_for_every_request_in_it_and_the_next_ones_still_work() -> None:
    fake = SlowFake(fail_on="boom")
    batcher = BatchingEmbedder(fake)
    barrier = threading.Barrier(8)

    def ask(text: str) -> str:
        barrier.wait()
        try:
            batcher.encode([text])
        except RuntimeError as exc:
            return str(exc)
        return "ok"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(ask, ["boom", *[f"fine {n}" for n in range(7)]]))
    broke = "the model failed on a batch: the model broke"
    assert outcomes[0] == broke
    assert set(outcomes) <= {"ok", broke}  # those batched with "boom" fail with it, and only with it
    assert np.array_equal(batcher.encode(["after"]), expected(["after"]))
    with pytest.raises(RuntimeError):
        batcher.encode(["boom"])


def test_length_batches_keep_a_long_text_from_padding_short_ones() -> None:
    from qa.onnx_embedder import length_batches

    lengths = [12] * 31 + [256]  # 31 questions and a story arrive in one call
    batches = length_batches(lengths)
    assert sorted(i for batch in batches for i in batch) == list(range(32))  # every text, once
    assert [31] in batches and all(31 not in batch or len(batch) == 1 for batch in batches)
    assert length_batches([10] * 70) == [list(range(32)), list(range(32, 64)), list(range(64, 70))]
    mixed = [5, 9, 14, 30, 31, 60, 61, 62, 200, 7, 8]
    for batch in length_batches(mixed):
        assert len(batch) * max(mixed[i] for i in batch) <= 1.5 * sum(mixed[i] for i in batch)
