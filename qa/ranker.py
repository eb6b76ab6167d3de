"""From feature rows to the chance that an entry answers the message.

A logistic model over `qa.features` rows: `probability` is P(this entry is an
acceptable answer), fitted on labelled in-scope and off-topic questions from
two corpora (the seed corpus and MedQuAD) by `scripts/fit_ranker.py`, which
also chooses the abstain threshold on out-of-fold predictions and records how
it was chosen. The file `data/ranker.json` holds the weights, the feature
names they belong to, the threshold and the cross-validated figures behind
them, so a reader sees what was fitted on what.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import RankerFileError
from qa.features import NAMES

RANKER_FILE = Path(__file__).parent / "data" / "ranker.json"
_REFIT = "reinstall, or refit with scripts/fit_ranker.py"


@dataclass(frozen=True)
class Ranker:
    weights: np.ndarray
    """One per feature, applied to standardised features."""
    bias: float
    mean: np.ndarray
    scale: np.ndarray
    threshold: float
    """Chance under which the engine abstains."""
    report: dict[str, Any] = field(default_factory=dict)
    """How the weights and the threshold were fitted (data, method, cross-validated figures)."""

    @classmethod
    def load(cls, path: Path = RANKER_FILE) -> Ranker:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            features = tuple(raw["features"])
            ranker = cls(
                weights=np.asarray(raw["weights"], dtype=np.float64),
                bias=float(raw["bias"]),
                mean=np.asarray(raw["mean"], dtype=np.float64),
                scale=np.asarray(raw["scale"], dtype=np.float64),
                threshold=float(raw["threshold"]),
                report=dict(raw.get("report", {})),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RankerFileError(f"the fitted ranker {path} is missing or damaged ({exc}); {_REFIT}") from exc
        if features != NAMES or not len(ranker.weights) == len(ranker.mean) == len(ranker.scale) == len(NAMES):
            raise RankerFileError(f"{path} was fitted on other features than this version computes; {_REFIT}")
        return ranker

    def save(self, path: Path) -> None:
        body = {
            "features": list(NAMES),
            # Unrounded: the threshold sits a hair under one question's chance, and rounding could cross it.
            "weights": [float(w) for w in self.weights],
            "bias": float(self.bias),
            "mean": [float(m) for m in self.mean],
            "scale": [float(s) for s in self.scale],
            "threshold": float(self.threshold),
            "report": self.report,
        }
        path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")

    def probability(self, rows: np.ndarray) -> np.ndarray:
        logits = ((rows - self.mean) / self.scale) @ self.weights + self.bias
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(logits, -50, 50))), dtype=np.float64)
