"""Answer quality, the product beside the baselines, in one run. `make bench-quality` runs it.

Per labelled set: acceptable@1 (an abstention on an in-scope question is a miss), MRR, the share of
in-scope questions answered and of out-of-scope ones abstained. Baselines:

* bm25: `bm25s` over each entry's questions and answer, stemmed (PyStemmer);
* dense-q / dense-a / dense-qa: cosine to the entry's best question / its answer / both as one text;
* q+a mix: the equal-weight mean of the dense-q and dense-a cosines;
* previous product: 0.4 question + 0.3 answer + 0.3 word coverage, threshold 0.46 (before the ranker;
  on today's spelling and synonym clean-up);
* nearest example (a corpus with example questions): Rasa's way, each entry scored by its nearest labelled
  example, below any threshold when an example the corpus does not answer is nearer; the set judged is
  never among the examples.

A baseline's threshold follows the product's rule on the other labelled sets of the same corpus (the
highest score that keeps 99% of their in-scope questions answered); on MedQuAD, whose sets have no
off-topic questions, baselines answer everything. "ranked first" ignores the threshold. The product is
judged leave one set out on the training sets (weights, calibration and threshold fitted without the set)
and as shipped on the frozen sets (`--frozen`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench.corpora import (
    FROZEN,
    MEDQUAD,
    MEDQUAD_SETS,
    SEED_SETS,
    Corpus,
    labelled,
    open_corpus,
    retriever,
    samples_for,
)
from qa.evaluate import Labelled, Ranked, Report, score
from qa.fitting import choose_threshold, leave_one_set_out
from qa.index import RowKind, joint_text
from qa.lexical import LexicalIndex
from qa.qtype import QuestionTypes
from qa.ranker import Ranker
from qa.retriever import ExampleBank, Retriever, loose

Scorer = Callable[[Sequence[str]], np.ndarray]
"""Questions -> (questions, entries) scores."""


def _best_per_entry(similarities: np.ndarray, owners: np.ndarray, entries: int) -> np.ndarray:
    best = np.full((similarities.shape[0], entries), -1.0, dtype=np.float32)
    for column in range(entries):
        mine = owners == column
        if mine.any():
            best[:, column] = similarities[:, mine].max(axis=1)
    return best


def baselines(corpus: Corpus, lexical: LexicalIndex) -> dict[str, Scorer]:
    build = corpus.build
    vectors = build.vectors.reconstruct_n(0, build.vectors.ntotal)
    kinds, owners, n = build.row_kind, build.row_entry, len(corpus.entries)
    question_rows, answer_rows, joint_rows = (np.flatnonzero(kinds == kind) for kind in RowKind)

    def cosines(questions: Sequence[str], rows: np.ndarray, best: bool) -> np.ndarray:
        similarities = corpus.embedder.encode(list(questions)) @ vectors[rows].T
        return _best_per_entry(similarities, owners[rows], n) if best else similarities

    return {
        "bm25": lambda qs: np.stack([lexical.bm25(q) for q in qs]),
        "dense-q": lambda qs: cosines(qs, question_rows, True),
        "dense-a": lambda qs: cosines(qs, answer_rows, False),
        "dense-qa": lambda qs: cosines(qs, joint_rows, False),
        "q+a mix": lambda qs: (cosines(qs, question_rows, True) + cosines(qs, answer_rows, False)) / 2,
    }


def nearest_example(corpus: Corpus, engine: Retriever) -> Callable[[Sequence[str], str], np.ndarray]:
    """Rasa's way: each entry scores its nearest labelled example's cosine, and sinks below any threshold when an
    example the corpus does not answer is nearer still. The set judged (and its questions, should an older
    set repeat one) is never among the examples."""

    def scores(questions: Sequence[str], judged_set: str) -> np.ndarray:
        bank = ExampleBank(corpus.build, frozenset({judged_set}), frozenset(loose(q) for q in questions))
        vectors = corpus.embedder.encode([engine.prepare(q) for q in questions])
        per_entry, offtopic, _ = bank.closeness(vectors)
        return np.where(per_entry > offtopic[:, None], per_entry, per_entry - 2.0)

    return scores


def previous_product(engine: Retriever, scorers: dict[str, Scorer], lexical: LexicalIndex) -> Scorer:
    """The hand-weighted mix this ranker replaced, on the product's own question clean-up."""

    def mix(questions: Sequence[str]) -> np.ndarray:
        prepared = [engine.prepare(q) for q in questions]
        q, a = scorers["dense-q"](prepared), scorers["dense-a"](prepared)
        return np.asarray(0.4 * q + 0.3 * a + 0.3 * np.stack([lexical.coverage(p) for p in prepared]))

    return mix


def judged(items: Sequence[Labelled], scores: np.ndarray, ids: list[str], threshold: float, depth: int) -> Report:
    order = np.argsort(-scores, axis=1)[:, :depth]
    tops = scores[np.arange(len(scores)), order[:, 0]]
    ranked = [
        Ranked(tuple(ids[j] for j in row), top >= threshold, float(top)) for row, top in zip(order, tops, strict=True)
    ]
    return score(items, ranked, depth)


def threshold_from(others: list[tuple[Sequence[Labelled], np.ndarray]]) -> float:
    """The product's rule on other sets: the highest top score keeping `MIN_ANSWERED` of in-scope ones answered."""
    if not others:
        return -np.inf
    tops = np.concatenate([scores.max(axis=1) for _, scores in others])
    in_scope = np.array([item.in_scope for items, _ in others for item in items])
    return choose_threshold(tops, in_scope) if (~in_scope).any() else -np.inf


def row(name: str, method: str, report: Report) -> str:
    abstained = f"{report.abstained:.0%}" if report.out_of_scope else "-"
    return (f"| {name} | {method} | {report.acceptable_at_1:.1%} | {report.ranked_first:.1%} | {report.mrr:.3f} "
            f"| {report.answered:.0%} | {abstained} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--medquad", type=Path, default=MEDQUAD, help="MedQuAD JSONL; skipped if missing.")
    parser.add_argument("--frozen", action="store_true", help="Also measure the frozen acceptance sets (once!).")
    parser.add_argument("--first-sight", action="append", default=[], metavar="SET",
                        help="Also measure a new seed-corpus set in eval/retrieval/ that no fit has used yet.")
    parser.add_argument("--ablation", action="store_true", help="Refit without each part (word tables, types...).")
    args = parser.parse_args()

    types = QuestionTypes.load()
    corpora = [("seed", open_corpus("seed", None, SEED_SETS), SEED_SETS, 3)]
    if args.medquad.is_file():
        corpora.append(("medquad", open_corpus("medquad", args.medquad), MEDQUAD_SETS, 10))
    samples = [s for _, corpus, sets, _ in corpora for s in samples_for(corpus, sets, types)]
    depths = {name: 10 for name in MEDQUAD_SETS}
    loso = leave_one_set_out(samples, calibrate_on=set(SEED_SETS), depths=depths)
    shipped = Ranker.load()

    print("| set | method | acceptable@1 | ranked first | MRR | answered | off-topic abstained |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, corpus, sets, depth in corpora:
        ids = [e.id for e in corpus.entries]
        product = retriever(corpus, shipped, types)
        lexical = LexicalIndex([joint_text(e) for e in corpus.entries])
        scorers = baselines(corpus, lexical)
        methods = {**scorers, "previous product": previous_product(product, scorers, lexical)}
        extra = (*(FROZEN[name] if args.frozen else ()), *(args.first_sight if name == "seed" else ()))
        every = (*sets, *extra)
        data = {set_name: labelled(set_name) for set_name in every}
        scored = {m: {n: scorer([i.question for i in data[n]]) for n in every} for m, scorer in methods.items()}
        if corpus.build.examples:
            knn = nearest_example(corpus, product)
            scored["nearest example"] = {n: knn([i.question for i in data[n]], n) for n in every}
            methods = {**methods, "nearest example": knn}
        for set_name in every:
            items = data[set_name]
            for method in methods:
                others = [(data[n], scored[method][n]) for n in sets if n != set_name]
                threshold = 0.46 if method == "previous product" else threshold_from(others)
                print(row(set_name, method, judged(items, scored[method][set_name], ids, threshold, depth)))
            questions = [i.question for i in items]
            if set_name in loso:
                print(row(set_name, "**product** (left out of the fit)", loso[set_name]))
            else:
                hits = product.leaving_out(questions=questions).search_many(questions, depth)
                ranked = [Ranked(tuple(h.entry.id for h in found), found[0].score >= product.threshold, found[0].score)
                          for found in hits]
                print(row(set_name, "**product** (shipped; never fitted on this set)", score(items, ranked, depth)))
    if args.ablation:
        ablation(corpora, types, loso)


Corpora = list[tuple[str, Corpus, tuple[str, ...], int]]
"""(name, corpus, its training sets, MRR depth)."""


def ablation(corpora: Corpora, types: QuestionTypes, full: dict[str, Report]) -> None:
    """Leave-one-set-out acceptable@1 with each part of the product taken out and the ranker refitted."""
    variants = ["synonyms", "speller", "types", "parts"]
    sets = list(full)
    print("\n| without | " + " | ".join(sets) + " |")
    print("| --- |" + " --- |" * len(sets))
    print("| (nothing: the product) | " + " | ".join(f"{full[s].acceptable_at_1:.1%}" for s in sets) + " |")
    for part in variants:
        without = frozenset({part})
        samples = [s for _, corpus, names, _ in corpora for s in samples_for(corpus, names, types, without)]
        reports = leave_one_set_out(samples, calibrate_on=set(SEED_SETS), depths={n: 10 for n in MEDQUAD_SETS})
        print(f"| {part} | " + " | ".join(f"{reports[s].acceptable_at_1:.1%}" for s in sets) + " |")


if __name__ == "__main__":
    main()
