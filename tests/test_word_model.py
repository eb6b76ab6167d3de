"""The second opinion's word model: scikit-learn's numbers in plain Python, kept on disk per bank."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from qa.config import PROJECT_ROOT
from qa.embedder import Embedder
from qa.safety import word_model
from qa.safety.second_opinion import Example, SecondOpinion, load_examples
from qa.safety.text import canonical
from qa.safety.word_model import FIT, WordModel

ODD = ["", "not breathing", "word " * 300, "he he he he", "😟 ?", "Ünïcode WÖRDS a b", "x1 y2_z 38.5", "it's 3:30"]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [canonical(example.text) for example in load_examples()]


def test_the_analyser_gives_scikit_learn_s_terms(texts: list[str]) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    theirs = TfidfVectorizer(ngram_range=FIT["ngram_range"]).build_analyzer()
    for text in texts[::3] + ODD:
        assert word_model.analyse(text) == theirs(text), text


def test_the_arithmetic_is_scikit_learn_s(texts: list[str]) -> None:
    """The per-message sum skips scikit-learn's input checks; it must give the same probability."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    alarming = [example.tier is not None for example in load_examples()]
    model = word_model.fit(texts, alarming)
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    classifier = LogisticRegression(C=16, class_weight="balanced", max_iter=5000)
    classifier.fit(words.fit_transform(texts), np.asarray(alarming))
    weight = dict(zip(words.get_feature_names_out(), classifier.coef_[0], strict=True))
    for text in texts[::7] + ODD:
        expected = float(classifier.predict_proba(words.transform([text]))[0, 1])
        assert abs(model.probability(text) - expected) < 1e-9, text
        # A terse message's evidence: its most alarming known word, stop words aside (0 for none known).
        content = [word for word in text.split() if word not in ENGLISH_STOP_WORDS]
        assert model.evidence(text) == pytest.approx(max((weight.get(w, 0.0) for w in content), default=0.0))


BANK = [
    Example("he is not breathing", "emergency", ("not_breathing",)),
    Example("she is not breathing now", "emergency", ("not_breathing",)),
    Example("he is blue and not breathing", "emergency", ("blue",)),
    Example("he is fine now", None, ()),
    Example("she is fine with blue eyes", None, ()),
    Example("she is fine and asleep now", None, ()),
]


def _opinion(embedder: Embedder, cache: Path, bank: list[Example] = BANK, prepared_by: str = "v1") -> SecondOpinion:
    return SecondOpinion(embedder, bank, str.lower, cache_dir=cache, prepared_by=prepared_by)


def _kept(cache: Path) -> list[Path]:
    return sorted(cache.glob("redflag-words-*.npz"))


def test_a_fitted_model_is_kept_and_read_back(embedder: Embedder, tmp_path: Path) -> None:
    first = _opinion(embedder, tmp_path)
    [path] = _kept(tmp_path)
    loaded = word_model.load(path)
    assert loaded is not None and loaded[0] == first._words
    # Read back, not refit: a model saved under the same key is the one the next start uses.
    model, vectors = loaded
    word_model.save(path, WordModel(model.terms, model.intercept + 50, model.stop_words), vectors)
    assert _opinion(embedder, tmp_path).probability("she is fine") > 0.99
    assert np.array_equal(_opinion(embedder, tmp_path)._named_vectors, first._named_vectors)


@pytest.mark.parametrize(
    "change",
    [
        {"bank": [*BANK[:-1], Example("she is fine and asleep", None, ())]},
        {"bank": [Example("he is not breathing", "urgent", ("not_breathing",)), *BANK[1:]]},
        {"prepared_by": "v2"},  # new normalising code or word lists
    ],
    ids=["a changed message", "a changed label", "another preparer"],
)
def test_anything_the_fit_read_changing_means_a_new_fit(
    embedder: Embedder, tmp_path: Path, change: dict[str, object]
) -> None:
    first = _opinion(embedder, tmp_path)
    [old] = _kept(tmp_path)
    loaded = word_model.load(old)
    assert loaded is not None and first._words is not None
    word_model.save(old, WordModel(first._words.terms, 50.0, first._words.stop_words), loaded[1])
    changed = _opinion(embedder, tmp_path, **change)  # type: ignore[arg-type]
    assert changed.probability("she is fine") < 0.99  # the stale model was not read
    assert _kept(tmp_path) != [old] and len(_kept(tmp_path)) == 1  # and it was replaced, not piled up


def test_each_model_keeps_its_own(embedder: Embedder, tmp_path: Path) -> None:
    """Two backends (their own model ids) on one cache must not remove each other's fitted model."""

    class Quantised:
        model_id = embedder.model_id + "+int8"
        encode = staticmethod(embedder.encode)

    _opinion(embedder, tmp_path)
    SecondOpinion(Quantised(), BANK, str.lower, cache_dir=tmp_path, prepared_by="v1")  # type: ignore[arg-type]
    assert len(_kept(tmp_path)) == 2
    _opinion(embedder, tmp_path, prepared_by="v2")
    assert len(_kept(tmp_path)) == 2


@pytest.mark.parametrize(
    "damage",
    [lambda data: b"not an npz file", lambda data: data[:100], lambda data: b""],
    ids=["not a zip", "truncated", "empty"],
)
def test_an_unreadable_kept_model_is_refit(
    embedder: Embedder, tmp_path: Path, damage: Callable[[bytes], bytes]
) -> None:
    first = _opinion(embedder, tmp_path)
    [path] = _kept(tmp_path)
    path.write_bytes(damage(path.read_bytes()))
    assert word_model.load(path) is None
    again = _opinion(embedder, tmp_path)
    assert again._words == first._words and word_model.load(path) is not None


def test_a_measurement_s_bank_leaves_the_kept_model_alone(embedder: Embedder, tmp_path: Path) -> None:
    """`bench/safety.py` builds detectors on banks with a set left out, on the same cache: the reviewed
    bank's model must survive them."""
    from qa.safety import RedFlagDetector

    shipped = RedFlagDetector(known_words=embedder.vocabulary(), embedder=embedder, cache_dir=tmp_path)
    [kept] = _kept(tmp_path)
    smaller = [example for example in load_examples() if example.origin != "heldout01.jsonl"]
    RedFlagDetector(known_words=embedder.vocabulary(), embedder=embedder, cache_dir=tmp_path, examples=smaller)
    assert _kept(tmp_path) == [kept] and shipped.second_opinion is not None


def test_without_a_fingerprint_nothing_is_kept(embedder: Embedder, tmp_path: Path) -> None:
    """A preparer the caller cannot fingerprint (a test's str.lower) must not be keyed as if it could."""
    SecondOpinion(embedder, BANK, str.lower, cache_dir=tmp_path)
    assert _kept(tmp_path) == []


_START = """
import json, sys
from pathlib import Path
from qa.config import Settings
from qa.embedder import open_embedder
from qa.safety import RedFlagDetector
embedder = open_embedder(Settings())
detector = RedFlagDetector(known_words=embedder.vocabulary(), embedder=embedder, cache_dir=Path(sys.argv[1]))
opinion = detector.second_opinion
found = [opinion.probability(m) for m in ["he went floppy like a rag doll", "he is kicking and smiling"]]
print(json.dumps(["sklearn" in sys.modules, found]))
"""


def test_a_second_start_neither_fits_nor_imports_scikit_learn(tmp_path: Path) -> None:
    def start() -> tuple[bool, list[float]]:
        done = subprocess.run(
            [sys.executable, "-c", _START, str(tmp_path)], capture_output=True, text=True, timeout=180, cwd=PROJECT_ROOT
        )
        assert done.returncode == 0, done.stderr
        imported, found = json.loads(done.stdout.strip().splitlines()[-1])
        return imported, found

    cold, warm = start(), start()
    assert cold[0] is True and warm[0] is False
    assert warm[1] == cold[1] and warm[1][0] > 0.5 > warm[1][1]
