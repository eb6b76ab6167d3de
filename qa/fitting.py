"""Fitting the ranker: weights, calibration and the abstain threshold, all from data.

Three steps, each on labelled questions grouped in *sets* (who wrote them, for
which corpus):

1. **weights**: a logistic regression over candidate feature rows (acceptable
   entry or not). Each question weighs the same, however many candidates it has,
   and its acceptable and unacceptable candidates weigh half each, so a long
   candidate list does not drown a short one. Besides the real questions, each
   in-scope question is also asked of the corpus without its acceptable
   entries (`synthetic`): the same words, nothing that answers them;
2. **calibration**: the ranker's top logit for each question, predicted by a
   model that never saw that question's set (leave one set out), is mapped by a
   one-dimensional logistic to the chance that the first answer is acceptable;
   off-topic questions count as unacceptable;
3. **threshold**: the highest chance that still answers `min_answered` of the
   in-scope questions (out of fold), so the engine abstains as often as it can
   without failing parents whose question the sources do answer.

`leave_one_set_out` reports each set as judged by a ranker, calibration and
threshold fitted without it: the figure to trust for unseen questions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.evaluate import Labelled, Ranked, Report, score
from qa.features import NAMES
from qa.ranker import Ranker

MIN_ANSWERED = 0.96
"""Share of in-scope questions the threshold must keep answering (the bar is 95%; one point of margin)."""
REGULARISATION = 1.0


@dataclass(frozen=True)
class Sample:
    """One labelled question with its candidates' feature rows."""

    group: str
    item: Labelled
    ids: tuple[str, ...]
    """Entry id of each candidate row."""
    rows: np.ndarray
    synthetic: bool = False
    """A question whose acceptable entries were taken out of the corpus: a hard negative, for the weights only."""

    @property
    def labels(self) -> np.ndarray:
        return np.array([entry in self.item.expected for entry in self.ids], dtype=np.int64)


@dataclass(frozen=True)
class Linear:
    weights: np.ndarray
    bias: float
    mean: np.ndarray
    scale: np.ndarray

    def logits(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(((rows - self.mean) / self.scale) @ self.weights + self.bias, dtype=np.float64)


def fit_linear(samples: Sequence[Sample]) -> Linear:
    from sklearn.linear_model import LogisticRegression

    rows = np.concatenate([s.rows for s in samples]).astype(np.float64)
    labels = np.concatenate([s.labels for s in samples])
    weights = np.concatenate([_balanced(s.labels) for s in samples])
    mean, scale = rows.mean(axis=0), rows.std(axis=0)
    scale[scale < 1e-6] = 1.0
    model = LogisticRegression(C=REGULARISATION, max_iter=5000)
    model.fit((rows - mean) / scale, labels, sample_weight=weights)
    return Linear(model.coef_[0].copy(), float(model.intercept_[0]), mean, scale)


def _balanced(labels: np.ndarray) -> np.ndarray:
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if positives == 0:  # an off-topic question: every candidate is wrong
        return np.full(len(labels), 1.0 / max(negatives, 1))
    return np.where(labels == 1, 0.5 / positives, 0.5 / max(negatives, 1))


def _top(linear: Linear, sample: Sample) -> tuple[float, bool]:
    logits = linear.logits(sample.rows)
    best = int(np.argmax(logits))
    return float(logits[best]), sample.ids[best] in sample.item.expected


def fit_calibration(logits: np.ndarray, outcomes: np.ndarray) -> tuple[float, float]:
    """(slope, intercept) so that sigmoid(slope * logit + intercept) estimates P(first answer acceptable)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=100.0, max_iter=1000).fit(logits.reshape(-1, 1), outcomes.astype(np.int64))
    return float(model.coef_[0][0]), float(model.intercept_[0])


def choose_threshold(chances: np.ndarray, in_scope: np.ndarray, min_answered: float = MIN_ANSWERED) -> float:
    """The highest threshold keeping at least `min_answered` of in-scope questions answered."""
    inside = np.sort(chances[in_scope])[::-1]
    if len(inside) == 0:
        return 0.5
    keep = int(np.ceil(min_answered * len(inside)))
    return float(inside[min(keep, len(inside)) - 1]) - 1e-6


def _out_of_fold(samples: Sequence[Sample]) -> dict[str, list[tuple[float, bool]]]:
    """For each set, the top logit and outcome of its questions under a model fitted without it."""
    found: dict[str, list[tuple[float, bool]]] = {}
    for group in sorted({s.group for s in samples}):
        linear = fit_linear([s for s in samples if s.group != group])
        found[group] = [_top(linear, s) for s in samples if s.group == group and not s.synthetic]
    return found


def _calibrated(outcomes: list[tuple[float, bool]], in_scope: list[bool]) -> tuple[float, float, float]:
    logits = np.array([logit for logit, _ in outcomes])
    right = np.array([ok for _, ok in outcomes])
    if right.all() or not right.any():
        raise ValueError("calibration needs questions answered both rightly and wrongly out of fold")
    slope, intercept = fit_calibration(logits, right)
    if slope <= 0:
        raise ValueError(f"calibration came out reversed (slope {slope:.3f}): the ranker ranks worse than chance")
    chances = 1 / (1 + np.exp(-(slope * logits + intercept)))
    return slope, intercept, choose_threshold(chances, np.array(in_scope))


def fit_ranker(samples: Sequence[Sample], calibrate_on: set[str] | None = None) -> Ranker:
    """The ranker to ship: weights on every set, calibration and threshold out of fold."""
    folds = _out_of_fold(samples)
    chosen = [g for g in folds if calibrate_on is None or g in calibrate_on] or list(folds)
    outcomes = [o for g in chosen for o in folds[g]]
    scope = [s.item.in_scope for g in chosen for s in samples if s.group == g and not s.synthetic]
    slope, intercept, threshold = _calibrated(outcomes, scope)
    linear = fit_linear(samples)
    return Ranker(
        weights=linear.weights * slope,
        bias=linear.bias * slope + intercept,
        mean=linear.mean,
        scale=linear.scale,
        threshold=threshold,
        report={"features": list(NAMES)},
    )


def leave_one_set_out(
    samples: Sequence[Sample], calibrate_on: set[str] | None = None, depths: dict[str, int] | None = None
) -> dict[str, Report]:
    """Each set judged by weights, calibration and threshold fitted without it (MRR at `depths`, else 3)."""
    reports: dict[str, Report] = {}
    for group in sorted({s.group for s in samples}):
        rest = [s for s in samples if s.group != group]
        ranker = fit_ranker(rest, None if calibrate_on is None else calibrate_on - {group})
        held = [s for s in samples if s.group == group and not s.synthetic]
        depth = (depths or {}).get(group, 3)
        reports[group] = score([s.item for s in held], [rank_sample(ranker, s) for s in held], depth)
    return reports


def rank_sample(ranker: Ranker, sample: Sample, threshold: float | None = None) -> Ranked:
    chances = ranker.probability(sample.rows)
    order = np.argsort(-chances, kind="stable")
    top = float(chances[order[0]]) if len(order) else 0.0
    cut = ranker.threshold if threshold is None else threshold
    return Ranked(tuple(sample.ids[i] for i in order), top >= cut, top)
