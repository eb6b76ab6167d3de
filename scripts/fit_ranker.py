"""Fit the question-type model and the ranker, and write them to qa/data. Run after changing features or sets:

    .venv/bin/python scripts/fit_ranker.py            # needs ../shared/datasets/medquad (read, never copied)

1. question types: a logistic regression on the embeddings of MedQuAD's 16k annotated questions,
   checked on the lay paraphrases of `eval/retrieval/medquad_lay_B.jsonl` (their source entry's type);
2. the ranker (`qa.fitting`): candidate feature rows for every labelled question of the training
   sets below, on the seed corpus and on MedQuAD; printed leave-one-set-out, then fitted on all.
   The seed corpus's training sets are also its example questions: written to
   `corpus/infant_seizures_faq.examples.jsonl`, and each set's questions are scored with the others'
   examples only.

Frozen acceptance sets (`*_frozen.jsonl`) are never read here. Embeddings are cached in .cache/.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench.corpora import (
    EVAL,
    MEDQUAD,
    MEDQUAD_SETS,
    SEED_EXAMPLES,
    SEED_SETS,
    open_corpus,
    samples_for,
    write_examples,
)
from qa.embedder import Embedder
from qa.features import NAMES
from qa.fitting import MIN_ANSWERED, fit_ranker, leave_one_set_out
from qa.qtype import TYPES_FILE, QuestionTypes
from qa.ranker import RANKER_FILE

ROOT = Path(__file__).resolve().parent.parent

MEDQUAD_TYPES = {
    "information": "what_is",
    "stages": "what_is",
    "symptoms": "symptoms",
    "causes": "causes",
    "exams and tests": "diagnosis",
    "treatment": "treatment",
    "outlook": "outlook",
    "complications": "outlook",
    "inheritance": "genetics",
    "genetic changes": "genetics",
    "frequency": "frequency",
    "susceptibility": "risk",
    "prevention": "prevention",
    "considerations": "what_to_do",
    "research": "research",
}
"""MedQuAD's annotated types, merged into the lay inventory of `eval/qtypes/` (which adds normal and duration)."""
LAY_WEIGHT = 10.0
"""A lay example weighs as much as ten templated MedQuAD ones: they are thirty times fewer, and how people ask."""


def _jsonl(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def fit_types(medquad: Path, embedder: Embedder) -> QuestionTypes:
    from sklearn.linear_model import LogisticRegression

    rows = [r for r in _jsonl(medquad) if r["qtype"] in MEDQUAD_TYPES]
    lay = _jsonl(ROOT / "eval/qtypes/lay_types_train.jsonl")
    texts = [r["question"] for r in rows] + [r["question"] for r in lay]
    labels = [MEDQUAD_TYPES[r["qtype"]] for r in rows] + [r["type"] for r in lay]
    weights = np.array([1.0] * len(rows) + [LAY_WEIGHT] * len(lay))
    model = LogisticRegression(C=1.0, max_iter=5000).fit(embedder.encode(texts), labels, sample_weight=weights)
    types = QuestionTypes(
        model_id=embedder.model_id,
        labels=tuple(str(label) for label in model.classes_),
        weights=model.coef_.T.astype(np.float32),
        bias=model.intercept_.astype(np.float32),
    )
    checks = {
        "lay check set (eval/qtypes/lay_types_check.jsonl)": [
            (r["question"], r["type"]) for r in _jsonl(ROOT / "eval/qtypes/lay_types_check.jsonl")
        ],
        "MedQuAD lay paraphrases, set B (source entry's type)": [
            (r["question"], MEDQUAD_TYPES.get(r["qtype"], "")) for r in _jsonl(EVAL / "medquad_lay_B.jsonl")
        ],
    }
    print(f"question types: {len(types.labels)} types from {len(rows)} MedQuAD and {len(lay)} lay questions")
    for name, pairs in checks.items():
        predicted = types.probabilities(embedder.encode([q for q, _ in pairs])).argmax(axis=1)
        right = sum(types.labels[p] == label for p, (_, label) in zip(predicted, pairs, strict=True))
        print(f"  {name}: {right}/{len(pairs)} = {right / len(pairs):.1%}")
    return types


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--medquad", type=Path, default=MEDQUAD, help="MedQuAD JSONL (read only).")
    parser.add_argument("--keep-types", action="store_true", help="Reuse qa/data/question_types.npz.")
    parser.add_argument("--seed-only", action="store_true", help="Fit on the seed corpus's sets alone.")
    parser.add_argument("--dry-run", action="store_true", help="Print the cross-validation, write nothing.")
    args = parser.parse_args()

    seed = open_corpus("seed", None, SEED_SETS)
    if not args.dry_run:
        write_examples(SEED_SETS, SEED_EXAMPLES)  # what the served index learns from: the sets fitted on here
    if args.keep_types:
        types = QuestionTypes.load()
    else:
        types = fit_types(args.medquad, seed.embedder)
        if not args.dry_run:
            types.save(TYPES_FILE)
    samples = samples_for(seed, SEED_SETS, types)
    if not args.seed_only:
        samples += samples_for(open_corpus("medquad", args.medquad), MEDQUAD_SETS, types)

    depths = {name: 10 for name in MEDQUAD_SETS}  # MRR@10 on the big corpus, @3 on the seed corpus
    reports = leave_one_set_out(samples, calibrate_on=set(SEED_SETS), depths=depths)
    print(f"\n{'held-out set':<22} {'in':>4} {'off':>4} {'acc@1':>7} {'first':>7} {'answered':>9} {'abstained':>10}")
    shown = {True: "{:>10.1%}", False: "{:>10}"}
    summary = {}
    for group, report in reports.items():
        print(f"{group:<22} {report.in_scope:>4} {report.out_of_scope:>4} {report.acceptable_at_1:>7.1%} "
              f"{report.ranked_first:>7.1%} {report.answered:>9.1%} "
              + shown[bool(report.out_of_scope)].format(report.abstained if report.out_of_scope else "-"))
        summary[group] = {k: v for k, v in report.as_dict().items() if k != "failures"}
        for failure in report.failures[:12]:
            print(f"    {failure.question[:90]!r} -> {failure.got} (first {failure.ranked_first}, {failure.score:.2f})")

    ranker = fit_ranker(samples, calibrate_on=set(SEED_SETS))
    names = [*NAMES, "rank_logit"]
    weights = {name: round(float(w), 3) for name, w in zip(names, ranker.rank.weights, strict=False)}
    print(f"rank weights (standardised features): {weights}")
    used = sorted({names[f] for tree in ranker.verify.trees for f in tree["feature"] if f >= 0})
    print(f"verify: {len(ranker.verify.trees)} trees splitting on {', '.join(used)}")
    print(f"threshold {ranker.threshold:.3f}")
    report = {
        "fitted": datetime.now(UTC).isoformat(timespec="seconds"),
        "method": "rank: logistic regression over candidate features, question-balanced, with entry-removed "
        "negatives; each set's questions scored against the other sets' example questions only; verify: boosted "
        "depth-2 trees over the first-ranked entry's features and rank logit, out of fold (leave one set out), on "
        f"the seed corpus's sets; threshold: highest verifier chance keeping {MIN_ANSWERED:.0%} of their in-scope "
        "questions answered, chances predicted out of fold",
        "training_sets": sorted({s.group for s in samples}),
        "leave_one_set_out": summary,
    }
    if not args.dry_run:
        type(ranker)(ranker.rank, ranker.verify, ranker.threshold, report).save(RANKER_FILE)
        written = [RANKER_FILE] if args.keep_types else [RANKER_FILE, TYPES_FILE]
        print("wrote " + " and ".join(str(path.relative_to(ROOT)) for path in written))


if __name__ == "__main__":
    main()
