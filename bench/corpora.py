"""The corpora and labelled sets the retrieval bench and the ranker fit share.

Two corpora: the seed corpus (`corpus/`) and MedQuAD, read from
`../shared/datasets/medquad/` (never copied into the project). Indexes are
built in memory through the embedding cache in `.cache/`, so a second run
embeds nothing it has seen.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

from qa import features
from qa.embedcache import CachedEmbedder
from qa.embedder import SentenceTransformerEmbedder
from qa.evaluate import Labelled, load_labelled
from qa.features import NAMES
from qa.fitting import Sample
from qa.index import IndexBuild, build_index
from qa.loaders import check_corpus, raise_for_errors
from qa.qtype import QuestionTypes
from qa.query import Preparer, shipped_synonyms
from qa.ranker import Linear, Ranker
from qa.records import Entry, Example
from qa.retriever import Retriever

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "eval" / "retrieval"
MEDQUAD = ROOT.parent / "shared" / "datasets" / "medquad" / "medquad.jsonl"
CACHE = ROOT / ".cache" / "embeddings"

SEED_SETS = (
    *("team_tuning", "team_heldout1", "team_heldout2"),
    *("dev3", "dev4", "dev5", "dev6", "dev7"),
    *("acceptance1", "acceptance4", "acceptance5"),
)
"""Labelled questions on the seed corpus that training and tuning may use; also the seed corpus's examples."""
SEED_EXAMPLES = ROOT / "corpus" / "infant_seizures_faq.examples.jsonl"
"""The seed corpus's example questions: `SEED_SETS`, written out by `scripts/fit_ranker.py`."""
MEDQUAD_SETS = ("medquad_lay_B", "medquad_lay_A")
FROZEN = {
    "seed": tuple(f"acceptance{n}_frozen" for n in (2, 3, 6, 7, 8, 9)),
    "medquad": (),
}
"""Measured once, at the end; never read by the fit."""


@dataclass(frozen=True)
class Corpus:
    name: str
    entries: tuple[Entry, ...]
    build: IndexBuild
    embedder: CachedEmbedder


@cache
def embedder() -> CachedEmbedder:
    return CachedEmbedder(SentenceTransformerEmbedder("all-MiniLM-L6-v2"), CACHE)


def open_corpus(name: str, path: Path | None, examples: tuple[str, ...] = ()) -> Corpus:
    """The corpus indexed in memory, with the labelled sets `examples` as its example questions."""
    source = path or (ROOT / "corpus")
    entries = published_entries(source)
    model = embedder()
    preparer = Preparer.for_corpus(entries, model.vocabulary(), shipped_synonyms())
    build = build_index(entries, model, "bench", examples_of(examples), preparer)
    return Corpus(name, entries, build, model)


def examples_of(sets: tuple[str, ...]) -> list[Example]:
    """Labelled sets as example questions, each remembering its set (so a fit can leave it out)."""
    return [
        Example(question=item.question, entries=item.expected, set=name, source=f"{name}.jsonl", line=number)
        for name in sets
        for number, item in enumerate(labelled(name), start=1)
    ]


def write_examples(sets: tuple[str, ...], path: Path) -> None:
    lines = [
        json.dumps({"question": e.question, "expected": list(e.entries) or "none", "set": e.set}, ensure_ascii=False)
        for e in examples_of(sets)
    ]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def published_entries(source: Path) -> tuple[Entry, ...]:
    """The corpus as published. MedQuAD's sources ask ~2,100 of its questions twice (a maintainer would merge
    them, and `qa index` refuses them); the bench measures it as it is, so only that error is let through."""
    check = check_corpus([source])
    raise_for_errors([p for p in check.problems if not p.message.startswith("duplicate question")])
    return check.entries


def labelled(name: str) -> list[Labelled]:
    return load_labelled(EVAL / f"{name}.jsonl")


def placeholder() -> Ranker:
    """A ranker with no weights: enough to compute evidence before anything is fitted."""
    size = len(NAMES)
    blank = Linear(np.zeros(size), 0.0, np.zeros(size), np.ones(size))
    return Ranker(blank, Linear(np.zeros(size + 1), 0.0, np.zeros(size + 1), np.ones(size + 1)), 0.5)


class _Whole(Retriever):
    """The retriever without question parts: for the ablation only."""

    def views(self, message: str) -> list[str]:
        return super().views(message)[:1]


def retriever(
    corpus: Corpus,
    ranker: Ranker,
    types: QuestionTypes | None,
    without: frozenset[str] = frozenset(),
) -> Retriever:
    """The product's retriever, or with parts taken out (`without`: synonyms, speller, types, parts)."""
    words = None if "synonyms" in without else shipped_synonyms()
    kind = _Whole if "parts" in without else Retriever
    typed = None if "types" in without else types
    return kind.create(corpus.build, corpus.embedder, ranker, words, typed, spelling="speller" not in without)


def samples_for(
    corpus: Corpus, sets: tuple[str, ...], types: QuestionTypes | None, without: frozenset[str] = frozenset()
) -> list[Sample]:
    everything = retriever(corpus, placeholder(), types, without)
    samples: list[Sample] = []
    for name in sets:
        items = labelled(name)
        engine = everything.leaving_out({name})  # a set's own questions are never its examples
        for item, evidence in zip(items, engine.evidence_many([i.question for i in items]), strict=True):
            ids = tuple(corpus.entries[int(e)].id for e in evidence.entries)
            samples.append(Sample(name, item, ids, evidence.rows))
            keep = np.array([i not in item.expected for i in ids])
            if item.in_scope and keep.sum() >= 2:
                rows = features.rows(features.without(evidence.evidence, keep))
                kept = tuple(i for i, k in zip(ids, keep, strict=True) if k)
                samples.append(Sample(name, Labelled(item.question, (), "entry removed"), kept, rows, synthetic=True))
    return samples
