"""From feature rows to a ranking, and to the chance that the first answer is right.

Two fitted models over `qa.features` rows, in the way answer
verification follows retrieval in question answering:

* `rank` orders the candidates: it is fitted on every candidate of every
  labelled question (acceptable entry or not), so it learns which entry fits
  best;
* `verify` judges the entry ranked first: it is fitted on one row per
  labelled question (that entry's features and its rank logit, predicted by a
  rank model that never saw the question's set), acceptable or not, off-topic
  questions included, so its output is a calibrated chance that the first
  answer is acceptable. That chance is the answer's `score`, and the engine
  abstains under `threshold`. It is a small ensemble of depth-2 trees
  (`Trees`), not a line: "similar words, no answer" shows in *combinations*
  (a high cosine with low coverage, a short message with a weak type match)
  that one weight per feature cannot express. Left one set out, it abstains on
  more off-topic questions at the same answered rate (README: answer quality).

`scripts/fit_ranker.py` fits both (`qa.fitting`) and writes `data/ranker.json`
with the weights, the feature names they belong to, the threshold and the
cross-validated figures behind them, so a reader sees what was fitted on what.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import RankerFileError
from qa.features import NAMES

RANKER_FILE = Path(__file__).parent / "data" / "ranker.json"
_REFIT = "reinstall, or refit with scripts/fit_ranker.py"


@dataclass(frozen=True)
class Linear:
    """A logistic model's linear part, over standardised inputs."""

    weights: np.ndarray
    bias: float
    mean: np.ndarray
    scale: np.ndarray

    def logits(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(((rows - self.mean) / self.scale) @ self.weights + self.bias, dtype=np.float64)

    def as_json(self) -> dict[str, Any]:
        # Unrounded: the threshold sits a hair under one question's chance, and rounding could cross it.
        return {
            "weights": [float(w) for w in self.weights],
            "bias": float(self.bias),
            "mean": [float(m) for m in self.mean],
            "scale": [float(s) for s in self.scale],
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any], size: int) -> Linear:
        linear = cls(
            np.asarray(raw["weights"], dtype=np.float64),
            float(raw["bias"]),
            np.asarray(raw["mean"], dtype=np.float64),
            np.asarray(raw["scale"], dtype=np.float64),
        )
        if not len(linear.weights) == len(linear.mean) == len(linear.scale) == size:
            raise ValueError(f"expected {size} weights")
        return linear


@dataclass(frozen=True)
class Trees:
    """Boosted regression trees summing to a logit (fitted by scikit-learn, evaluated here with numpy).

    Each tree is flat arrays: a node splits on `feature <= threshold` to `left`, else `right`; a leaf
    (`feature` -1) holds its `value`. Nothing of scikit-learn is needed to serve, and the JSON says
    exactly what was fitted.
    """

    base: float
    trees: tuple[dict[str, np.ndarray], ...]

    def logits(self, rows: np.ndarray) -> np.ndarray:
        """All trees walked at once, one level per step: a few array operations, not one per tree.

        Nodes of all trees are numbered in one flat array, and a leaf points to itself on both sides
        with a threshold no value exceeds, so every row takes the same number of steps (the deepest
        tree's depth) with no test for having arrived."""
        if not self.trees:
            return np.full(len(rows), self.base, dtype=np.float64)
        feature, threshold, left, right, value, roots, depth = self._flat
        values = np.asarray(rows, dtype=np.float64)
        row = np.arange(len(values))[:, None]
        node = np.broadcast_to(roots, (len(values), len(roots)))
        for _ in range(depth):
            node = np.where(values[row, feature[node]] <= threshold[node], left[node], right[node])
        return np.asarray(self.base + value[node].sum(axis=1), dtype=np.float64)

    @cached_property
    def _flat(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
        """(feature, threshold, left, right, value) over every tree's nodes in one numbering, each tree's
        root, and the deepest tree's depth."""
        sizes = [len(tree["feature"]) for tree in self.trees]
        roots = np.cumsum([0, *sizes[:-1]])
        feature = np.concatenate([tree["feature"] for tree in self.trees])
        own = np.arange(len(feature))
        leaf = feature < 0
        offset = np.repeat(roots, sizes)
        left = np.where(leaf, own, np.concatenate([tree["left"] for tree in self.trees]) + offset)
        right = np.where(leaf, own, np.concatenate([tree["right"] for tree in self.trees]) + offset)
        threshold = np.where(leaf, np.inf, np.concatenate([tree["threshold"] for tree in self.trees]))
        value = np.concatenate([tree["value"] for tree in self.trees])
        return np.where(leaf, 0, feature), threshold, left, right, value, roots, max(map(_depth, self.trees))

    def as_json(self) -> dict[str, Any]:
        return {"base": self.base, "trees": [{key: value.tolist() for key, value in t.items()} for t in self.trees]}

    @classmethod
    def from_json(cls, raw: dict[str, Any], size: int) -> Trees:
        kinds = {"feature": np.int64, "threshold": np.float64, "left": np.int64, "right": np.int64, "value": np.float64}
        trees = tuple({key: np.asarray(t[key], dtype=kind) for key, kind in kinds.items()} for t in raw["trees"])
        for tree in trees:
            nodes = len(tree["feature"])
            inner = tree["feature"] >= 0
            if not all(len(a) == nodes for a in tree.values()) or (tree["feature"] >= size).any() or (
                inner.any() and not ((tree["left"][inner] < nodes).all() and (tree["right"][inner] < nodes).all())
            ):
                raise ValueError("a verifier tree is malformed")
        return cls(float(raw["base"]), trees)


def _depth(tree: dict[str, np.ndarray], node: int = 0) -> int:
    if tree["feature"][node] < 0:
        return 0
    return 1 + max(_depth(tree, int(tree["left"][node])), _depth(tree, int(tree["right"][node])))


def _verifier(raw: dict[str, Any], size: int) -> Linear | Trees:
    """Trees as fitted today; a line for a file written with a linear verifier."""
    return Trees.from_json(raw, size) if "trees" in raw else Linear.from_json(raw, size)


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(values, -50, 50))), dtype=np.float64)


@dataclass(frozen=True)
class Ranker:
    rank: Linear
    """Over the feature rows: orders the candidates."""
    verify: Linear | Trees
    """Over the feature rows plus the rank logit: the chance that an entry ranked first is acceptable."""
    threshold: float
    """Chance under which the engine abstains."""
    report: dict[str, Any] = field(default_factory=dict)
    """How the models and the threshold were fitted (data, method, cross-validated figures)."""

    @classmethod
    def load(cls, path: Path = RANKER_FILE) -> Ranker:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            features = tuple(raw["features"])
            if features != NAMES:
                raise RankerFileError(f"{path} was fitted on other features than this version computes; {_REFIT}")
            return cls(
                Linear.from_json(raw["rank"], len(NAMES)),
                _verifier(raw["verify"], len(NAMES) + 1),
                float(raw["threshold"]),
                dict(raw.get("report", {})),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RankerFileError(f"the fitted ranker {path} is missing or damaged ({exc}); {_REFIT}") from exc

    def save(self, path: Path) -> None:
        body = {
            "features": list(NAMES),
            "rank": self.rank.as_json(),
            "verify": self.verify.as_json(),
            "threshold": float(self.threshold),
            "report": self.report,
        }
        path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")

    def order(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(candidate order, best first; each candidate's chance of being acceptable).

        The chance is the verifier's, which is calibrated for the entry ranked first. Further down it is
        capped by the chances above it, so a lower-ranked entry never looks likelier than a higher one.
        """
        logits = self.rank.logits(rows)
        order = np.argsort(-logits, kind="stable")
        chances = _sigmoid(self.verify.logits(np.column_stack([rows, logits])))
        shown = np.minimum.accumulate(chances[order]) if len(order) else chances
        result = np.empty_like(chances)
        result[order] = shown
        return order, result
