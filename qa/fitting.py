"""Fitting the ranker: the rank model, the verifier and the abstain threshold, all from data.

Three steps, each on labelled questions grouped in *sets* (who wrote them, for
which corpus):

1. **rank**: a logistic regression over candidate feature rows (acceptable
   entry or not). Each question weighs the same, however many candidates it has,
   and its acceptable and unacceptable candidates weigh half each, so a long
   candidate list does not drown a short one. Besides the real questions, each
   in-scope question is also asked of the corpus without its acceptable
   entries (`synthetic`): the same words, nothing that answers them;
2. **verify**: for each real question, the entry a rank model fitted without
   that question's set puts first, its features and its rank logit, and
   whether it is acceptable (off-topic questions never are): boosted depth-2
   trees over these rows (`VERIFIER`), in-scope and off-topic questions
   weighing the same in all, give the chance that the first answer is right;
3. **threshold**: the highest chance that still answers `MIN_ANSWERED` of the
   in-scope questions, judged on verifier chances predicted out of fold (one
   set left out at a time), so the engine abstains as often as it can without
   failing parents whose question the sources do answer.

`leave_one_set_out` reports each set as judged by models and a threshold
fitted without it: the figure to trust for unseen questions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qa.evaluate import Labelled, Ranked, Report, score
from qa.ranker import Linear, Ranker, Trees

MIN_ANSWERED = 0.99
"""Share of in-scope questions the threshold must keep answering. An abstention on an in-scope question is a
miss, so every point answered less is a point of acceptable first answers lost; left one set out, 0.99
still abstained on at least 83% of every set's off-topic questions (README: answer quality)."""
REGULARISATION = 1.0
VERIFIER = {"max_depth": 2, "max_iter": 100, "learning_rate": 0.05, "l2_regularization": 1.0}
"""Chosen left one set out among depth 1-3 and 50-200 trees (README: answer quality); shallow and few, for ~700 rows."""


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


def choose_threshold(chances: np.ndarray, in_scope: np.ndarray, min_answered: float = MIN_ANSWERED) -> float:
    """The highest threshold keeping at least `min_answered` of in-scope questions answered."""
    inside = np.sort(chances[in_scope])[::-1]
    if len(inside) == 0:
        return 0.5
    keep = int(np.ceil(min_answered * len(inside)))
    return float(inside[min(keep, len(inside)) - 1]) - 1e-6


def _verify_rows(samples: Sequence[Sample], groups: set[str] | None) -> list[tuple[str, np.ndarray, bool, bool]]:
    """(set, top row + rank logit, acceptable, in scope) per real question, ranked by a model fitted without its set."""
    found = []
    for group in sorted({s.group for s in samples}):
        if groups is not None and group not in groups:
            continue
        rank = fit_linear([s for s in samples if s.group != group])
        for sample in samples:
            if sample.group == group and not sample.synthetic:
                logits = rank.logits(sample.rows)
                best = int(np.argmax(logits))
                row = np.append(sample.rows[best], logits[best])
                found.append((group, row, sample.ids[best] in sample.item.expected, sample.item.in_scope))
    return found


def _fit_verifier(rows: Sequence[tuple[str, np.ndarray, bool, bool]]) -> Trees:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    matrix = np.stack([row for _, row, _, _ in rows])
    right = np.array([ok for _, _, ok, _ in rows], dtype=np.int64)
    if right.all() or not right.any():
        raise ValueError("the verifier needs first answers both right and wrong out of fold")
    # In-scope and out-of-scope questions weigh the same in all, as they do in the decision it makes.
    in_scope = np.array([scope for _, _, _, scope in rows])
    weights = np.where(in_scope, 1.0, in_scope.sum() / max(int((~in_scope).sum()), 1))
    model = HistGradientBoostingClassifier(**VERIFIER, early_stopping=False)
    with threadpool_limits(1):  # ~1,000 rows: OpenMP threads cost far more than they give
        model.fit(matrix, right, sample_weight=weights)
    return _trees(model)


def _trees(model: Any) -> Trees:
    """The fitted trees as flat arrays (scikit-learn's predictor nodes: split when value <= threshold)."""
    trees = []
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        leaf = nodes["is_leaf"].astype(bool)
        trees.append({
            "feature": np.where(leaf, -1, nodes["feature_idx"]).astype(np.int64),
            "threshold": nodes["num_threshold"].astype(np.float64),
            "left": nodes["left"].astype(np.int64),
            "right": nodes["right"].astype(np.int64),
            "value": np.where(leaf, nodes["value"], 0.0).astype(np.float64),
        })
    return Trees(float(np.ravel(model._baseline_prediction)[0]), tuple(trees))


def _threshold(rows: Sequence[tuple[str, np.ndarray, bool, bool]]) -> float:
    """Chosen on chances from verifiers that never saw the set a question comes from."""
    chances, in_scope = [], []
    groups = sorted({group for group, _, _, _ in rows})
    for group in groups:
        held = [r for r in rows if r[0] == group]
        verifier = _fit_verifier([r for r in rows if r[0] != group]) if len(groups) > 1 else _fit_verifier(rows)
        chances += list(1 / (1 + np.exp(-verifier.logits(np.stack([row for _, row, _, _ in held])))))
        in_scope += [scope for _, _, _, scope in held]
    return choose_threshold(np.array(chances), np.array(in_scope))


def fit_ranker(samples: Sequence[Sample], calibrate_on: set[str] | None = None) -> Ranker:
    """The ranker to ship: the rank model on every set; the verifier and threshold out of fold on `calibrate_on`."""
    groups = {s.group for s in samples}
    chosen = (calibrate_on & groups) if calibrate_on else groups
    rows = _verify_rows(samples, chosen or groups)
    return Ranker(fit_linear(samples), _fit_verifier(rows), _threshold(rows))


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
    order, chances = ranker.order(sample.rows)
    top = float(chances[order[0]]) if len(order) else 0.0
    cut = ranker.threshold if threshold is None else threshold
    return Ranked(tuple(sample.ids[i] for i in order), top >= cut, top)
