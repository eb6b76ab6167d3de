"""The load bench's machinery at small scale: a real `qa serve`, every kind of request, a re-index midway.

No timing: the figures live in `bench/load.py`. What must hold at any scale: no request fails (no transport
error, no timeout, no 5xx, every valid question answered 200), and the answers begun after the re-index all
come from the new build.
"""

from __future__ import annotations

import random
from pathlib import Path

from bench.load import prepare, run_load, server_env
from bench.load_mix import kinds
from bench.serving import served


def test_mixed_load_with_a_reindex_midway_fails_no_request(tmp_path: Path) -> None:
    corpus, index = prepare(tmp_path)
    with served(index, server_env(tmp_path, corpus, index)) as (url, _, _):
        run = run_load(url, corpus, total=300, concurrency=8, seed=7)
    failed = [f"{o.probe.kind} [{o.probe.label}]: {o.status} {o.error}" for o in run.failed]
    assert failed == []
    assert run.server_errors == []
    assert {o.probe.kind for o in run.outcomes} == {kind for kind, _, _ in kinds(random.Random(7))}
    assert run.reindex.status == 200, run.reindex.detail
    assert run.reindex.changed  # one answer edited midway: a real new build
    assert run.reindex.version != run.old_version
    assert run.new_build_served, run.versions()
    assert run.versions()["after"]["new"] > 0
