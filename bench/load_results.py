"""What a load run found, and how it is reported (`bench/load.py`): each reply judged (`outcome`), the run as a
whole (`Run`: failures, the versions that answered around the re-index), and the tables printed.

A request *fails* on a transport error, a timeout, any 5xx, or a 200-kind that is not 200 (or whose 200 body
is not the `/api/ask` contract); a malformed request answered 2xx is `unexpected`, a warning.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.load_mix import Probe
from bench.serving import Reply

# ---------------------------------------------------------------------------------------------------- judging a reply


@dataclass(frozen=True)
class Outcome:
    probe: Probe
    status: int
    """0 when no status came back (`error` says why)."""
    ms: float
    started: float
    ended: float
    version: str | None = None
    flagged: bool = False
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None or self.status >= 500 or (self.probe.expect == 2 and self.status != 200)

    @property
    def unexpected(self) -> bool:
        """A malformed request that was not refused with a 4xx (and not a 5xx, which is a failure)."""
        return self.probe.expect == 4 and self.error is None and not 400 <= self.status < 500 and self.status < 500


@dataclass(frozen=True)
class Slowest:
    probe: Probe
    statuses: Counter[int]
    ms: list[float]
    errors: list[str]

    @property
    def worst(self) -> float:
        return max(self.ms)

    @property
    def failed(self) -> bool:
        """Any of its sends failed, as a load request fails (`Outcome.failed`)."""
        return bool(self.errors) or any(s >= 500 or (self.probe.expect == 2 and s != 200) for s in self.statuses)


def outcome(probe: Probe, reply: Reply, started: float) -> Outcome:
    ended = time.perf_counter()
    ms = (ended - started) * 1000
    if reply.status != 200:
        return Outcome(probe, reply.status, ms, started, ended)
    try:
        body = json.loads(reply.body)
        version, flagged = str(body["index"]["version"]), bool(body["red_flag"]["triggered"])
        if not isinstance(body["answers"], list) or not isinstance(body["abstained"], bool):
            raise TypeError("answers/abstained")
    except (ValueError, KeyError, TypeError) as exc:
        error = f"200 whose body is not the /api/ask contract ({exc!r}): {reply.body[:120]!r}"
        return Outcome(probe, 200, ms, started, ended, error=error)
    return Outcome(probe, 200, ms, started, ended, version, flagged)


# ---------------------------------------------------------------------------------------------------- a run


@dataclass
class Reindex:
    status: int = 0
    seconds: float = 0.0
    server_seconds: float | None = None
    version: str | None = None
    changed: list[str] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0
    detail: str = ""


@dataclass(frozen=True)
class Run:
    outcomes: list[Outcome]
    reindex: Reindex
    old_version: str
    health_version: str
    seconds: float
    total: int
    """Requests scheduled: more than `outcomes` if the load was stopped at its deadline (`unsent`)."""

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.failed]

    @property
    def unsent(self) -> int:
        return self.total - len(self.outcomes)

    @property
    def server_errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status >= 500]

    @property
    def unexpected(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.unexpected]

    def versions(self) -> dict[str, Counter[str]]:
        """Versions that answered, for requests ended before the re-index began, during it, and begun after it."""
        split: dict[str, Counter[str]] = {"before": Counter(), "during": Counter(), "after": Counter()}
        for o in self.outcomes:
            if o.version is None:
                continue
            when = "before" if not self.reindex.started or o.ended < self.reindex.started else "during"
            if self.reindex.started and o.started > self.reindex.ended:
                when = "after"
            names = {self.reindex.version: "new", self.old_version: "old"}
            split[when][names.get(o.version, o.version)] += 1
        return split

    @property
    def new_build_served(self) -> bool:
        """The re-index made a new version, and every answer begun after it came from that version."""
        after = self.versions()["after"]
        return (
            self.reindex.status == 200
            and self.reindex.version not in (None, self.old_version)
            and self.health_version == self.reindex.version
            and after["new"] > 0
            and set(after) == {"new"}
        )


# ---------------------------------------------------------------------------------------------------- report


def pct(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def table(rows: Sequence[Sequence[str]], left: frozenset[int] = frozenset({0})) -> str:
    """Rows as aligned columns (the `left` ones flush left, the others flush right), a rule under the first."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [
            cell.ljust(w) if i in left else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def statuses(counts: Counter[int], errors: Sequence[str] = ()) -> str:
    text = " ".join(f"{status}x{n}" for status, n in sorted(counts.items()) if status)
    if errors:
        text += f" error x{len(errors)}"
    return text


def load_report(run: Run, weights: dict[str, float]) -> str:
    by_kind: dict[str, list[Outcome]] = {}
    for o in run.outcomes:
        by_kind.setdefault(o.probe.kind, []).append(o)
    total_weight = sum(weights.values())
    rows = [["kind", "expect", "weight %", "sent", "statuses", "p50 ms", "p99 ms", "max ms", "red flag", "failed"]]
    for kind in weights:
        group = by_kind.get(kind, [])
        ms = [o.ms for o in group]
        expect = "200" if group and group[0].probe.expect == 2 else "4xx"
        rows.append(
            [
                kind,
                expect,
                f"{100 * weights[kind] / total_weight:.1f}",
                str(len(group)),
                statuses(Counter(o.status for o in group), [o.error for o in group if o.error]),
                f"{pct(ms, 0.5):.1f}",
                f"{pct(ms, 0.99):.1f}",
                f"{max(ms, default=float('nan')):.1f}",
                str(sum(o.flagged for o in group)) if expect == "200" else "",
                str(sum(o.failed for o in group)),
            ]
        )
    ms = [o.ms for o in run.outcomes]
    rows.append(
        [
            "TOTAL",
            "",
            "100.0",
            str(len(run.outcomes)),
            statuses(Counter(o.status for o in run.outcomes), [o.error for o in run.outcomes if o.error]),
            f"{pct(ms, 0.5):.1f}",
            f"{pct(ms, 0.99):.1f}",
            f"{max(ms, default=float('nan')):.1f}",
            str(sum(o.flagged for o in run.outcomes)),
            str(len(run.failed)),
        ]
    )
    lines = [table(rows, frozenset({0, 1, 4}))]
    lines.append(
        f"\n{len(run.outcomes)} requests in {run.seconds:.1f} s ({len(run.outcomes) / run.seconds:.0f} /s); "
        f"failed {len(run.failed)}, 5xx {len(run.server_errors)}, malformed not refused {len(run.unexpected)}"
        + (f", NOT ANSWERED {run.unsent} (stopped at the deadline)" if run.unsent else "")
    )
    slowest = max(run.outcomes, key=lambda o: o.ms)
    lines.append(f"slowest under load: {slowest.ms:.0f} ms, {slowest.probe.kind} [{slowest.probe.label}]")
    r = run.reindex
    lines.append(
        f"re-index (at {run.total // 2} answered): status {r.status}, {r.seconds:.2f} s wall"
        + (f" ({r.server_seconds:.2f} s in the server)" if r.server_seconds is not None else "")
        + f", version {run.old_version} -> {r.version}, changed {r.changed}"
        + (f", {r.detail}" if r.detail else "")
    )
    split = run.versions()
    lines.append(
        "answers by version: "
        + "; ".join(f"{when} it: {dict(counts) or '-'}" for when, counts in split.items())
        + f"; /api/health after: {run.health_version}"
    )
    lines.append(f"new build served after the re-index: {'yes' if run.new_build_served else 'NO'}")
    for o in run.failed[:20]:
        lines.append(f"FAILED {o.probe.kind} [{o.probe.label}]: status {o.status} {o.error or ''}")
    seen: set[str] = set()
    for o in run.unexpected:
        if o.probe.label not in seen:
            seen.add(o.probe.label)
            lines.append(f"WARNING malformed request not refused: {o.probe.kind} [{o.probe.label}] -> {o.status}")
    return "\n".join(lines)


def worst_report(found: Sequence[Slowest], bound_ms: float) -> str:
    rows = [["input", "expect", "statuses", "median ms", "worst ms"]]
    for s in found:
        rows.append(
            [
                f"{s.probe.kind} [{s.probe.label}]",
                "200" if s.probe.expect == 2 else "4xx",
                statuses(s.statuses, s.errors),
                f"{pct(s.ms, 0.5):.1f}",
                f"{s.worst:.1f}",
            ]
        )
    worst = max(found, key=lambda s: s.worst)
    wrong = [s for s in found if s.failed]
    summary = (
        f"\nworst case: {worst.worst:.1f} ms for {worst.probe.kind} [{worst.probe.label}] "
        f"(bound {bound_ms:.0f} ms: {'within' if worst.worst <= bound_ms else 'EXCEEDED'}); "
        f"{sum(len(s.ms) for s in found)} requests, {len(wrong)} inputs with a failure"
    )
    extra = [f"FAILED {s.probe.kind} [{s.probe.label}]: {statuses(s.statuses)} {s.errors[:1]}" for s in wrong]
    return "\n".join([table(rows, frozenset({0, 1, 2})), summary, *extra])
