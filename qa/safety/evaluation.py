"""Measuring the red-flag detector on labelled phrasing sets, the same way everywhere.

The bench, the suite and the example-bank script all read the sets through here, so "emergency
recall" and "false alarms" mean one thing. The sets themselves (`eval/safety/`, listed with their
origin in `sets.toml`) are evaluation data, not product data: the product reads only the bank the
script builds from them.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qa.records import RedFlag

_REFERENCE_TIERS = {"EMERGENCY": "emergency", "EMERGENCY_OR_IMMEDIATE": "emergency"}
ANY = "any"
"""Tier of a reference phrasing where firing at either tier is right ("ambiguous, recommend fire")."""


@dataclass(frozen=True)
class Phrasing:
    text: str
    tier: str | None
    """"emergency", "urgent", `ANY`, or None for a benign message."""
    origin: str
    """The set file it comes from."""
    kind: str = ""
    """The writer's label, when the set has one ("terse", "full", "benign_alarming", ...)."""


@dataclass(frozen=True)
class PhrasingSet:
    file: str
    origin: str
    rows: tuple[Phrasing, ...]
    held_out: bool = True
    """Written by someone who never saw the rules, and measured on first sight."""
    first_sight: tuple[int, ...] = ()


def read_set(path: Path) -> list[Phrasing]:
    """A JSONL set, or the shared reference (JSON with concepts, benign groups and ambiguous phrasings)."""
    if path.suffix == ".json":
        reference = json.loads(path.read_text(encoding="utf-8"))
        rows = [
            Phrasing(text, _REFERENCE_TIERS.get(concept["tier"], "urgent"), path.name, concept["id"])
            for concept in reference["concepts"]
            for text in concept["phrasings"]
        ]
        benign = reference["benign"].items()
        rows += [Phrasing(text, None, path.name, group) for group, texts in benign for text in texts]
        return rows + [Phrasing(text, ANY, path.name, "ambiguous") for text in reference["ambiguous_recommend_fire"]]
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        Phrasing(str(row["text"]), row["tier"], path.name, str(row.get("kind", "")))
        for row in map(json.loads, filter(str.strip, lines))
    ]


def load_sets(folder: Path) -> list[PhrasingSet]:
    """Every set listed in `folder/sets.toml`, in its order."""
    with (folder / "sets.toml").open("rb") as handle:
        listed = tomllib.load(handle)["set"]
    return [
        PhrasingSet(
            file=item["file"],
            origin=item["origin"],
            rows=tuple(read_set(folder / item["file"])),
            held_out=item.get("held_out", True),
            first_sight=tuple(item.get("first_sight", ())),
        )
        for item in listed
    ]


def correct(phrasing: Phrasing, result: RedFlag) -> bool:
    """Emergencies must get the emergency tier; urgent signs any banner; benign messages none."""
    if phrasing.tier == "emergency":
        return result.tier == "emergency"
    if phrasing.tier is None:
        return not result.triggered
    return result.triggered


@dataclass
class Score:
    """Counts per tier: caught (or, for benign messages, false alarms) out of total, and the misses."""

    counts: dict[str, list[int]] = field(
        default_factory=lambda: {"emergency": [0, 0], "urgent": [0, 0], "benign": [0, 0]}
    )
    misses: list[tuple[Phrasing, RedFlag]] = field(default_factory=list)

    def add(self, phrasing: Phrasing, result: RedFlag) -> None:
        ok = correct(phrasing, result)
        key = "benign" if phrasing.tier is None else "emergency" if phrasing.tier == "emergency" else "urgent"
        self.counts[key][0] += (not ok) if key == "benign" else ok
        self.counts[key][1] += 1
        if not ok:
            self.misses.append((phrasing, result))

    def rate(self, key: str) -> float:
        hit, total = self.counts[key]
        return hit / total if total else 0.0

    def line(self) -> str:
        (e, ne), (u, nu), (fa, nb) = (self.counts[k] for k in ("emergency", "urgent", "benign"))
        return f"{e:4d}/{ne:<4d} {u:3d}/{nu:<3d} {fa:3d}/{nb:<4d} ({fa / max(nb, 1):5.1%})"


def score(check: Callable[[str], RedFlag], rows: Iterable[Phrasing]) -> Score:
    result = Score()
    for phrasing in rows:
        result.add(phrasing, check(phrasing.text))
    return result


def all_rows(sets: Sequence[PhrasingSet]) -> list[Phrasing]:
    return [row for phrasing_set in sets for row in phrasing_set.rows]
