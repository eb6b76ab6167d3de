"""The ranking's pure parts: question parts, features, fitting, scoring, the embedding cache.

Small inline fixtures; the fake embedder only where the logic, not the model, is under test.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qa import features
from qa.embedcache import CachedEmbedder
from qa.errors import LabelledFileError, RankerFileError
from qa.evaluate import Labelled, Ranked, load_labelled, score
from qa.fitting import Sample, choose_threshold, fit_ranker, rank_sample
from qa.index import build_index
from qa.lexical import LexicalIndex
from qa.qtype import QuestionTypes
from qa.query import question_parts
from qa.ranker import Linear, Ranker, Trees
from qa.records import Entry
from qa.retriever import Retriever, _best_by_kind, loose
from tests.fakes import HashingEmbedder


def test_a_plain_question_has_no_parts() -> None:
    assert question_parts("What do baby spasms look like?") == []
    assert question_parts("she jerks her arms when falling asleep and we are worried") == []


def test_background_first_question_last_is_split_off() -> None:
    message = "My son is 5 months. Last week his arms started flying up. What could this be?"
    assert question_parts(message) == ["What could this be?"]
    assert question_parts("newborn jerks when sleeping, is that normal") == ["is that normal"]


def test_relative_clauses_and_statements_are_not_questions() -> None:
    assert question_parts("Any idea why my son, who is 5 months, keeps twitching?") == []
    assert question_parts("My baby cries a lot and has a rash on her cheeks") == []


def test_questions_with_and_without_a_mark_keep_their_order() -> None:
    assert question_parts("Can babies get migraines? Also what about toddlers") == [
        "Can babies get migraines?",
        "Also what about toddlers",
    ]
    told = "She is 5 months and stopped sitting. Father asks whether this is part of infantile spasms."
    assert question_parts(told) == ["Father asks whether this is part of infantile spasms."]


def test_several_questions_keep_the_last_three() -> None:
    message = "Help. How long do they last? What causes them? Do they hurt? Will she be ok?"
    assert question_parts(message) == ["What causes them?", "Do they hurt?", "Will she be ok?"]


def test_a_story_with_no_question_ends_on_its_last_sentence() -> None:
    assert question_parts("He is 4 months old. He keeps nodding his head in clusters.") == [
        "He keeps nodding his head in clusters."
    ]


def _evidence(joint: list[float], views: int = 1) -> features.Evidence:
    row = np.array([joint] * views, dtype=np.float32)
    return features.Evidence(
        question_cosine=row,
        answer_cosine=row,
        joint_cosine=row,
        coverage=row,
        string_match=row,
        type_agreement=row,
        answer_type_agreement=row,
        bm25=np.array(joint, dtype=np.float32) * 10,
        bm25_best=10.0,
        message_words=7,
        example_cosine=np.zeros_like(row),
        offtopic_cosine=np.zeros(views, dtype=np.float32),
        offtopic_share=0.0,
        has_examples=np.zeros(len(joint), dtype=np.float32),
    )


def test_feature_rows_rank_and_margin_are_relative_to_the_other_candidates() -> None:
    rows = features.rows(_evidence([0.9, 0.5, 0.7]))
    column = {name: rows[:, i] for i, name in enumerate(features.NAMES)}
    assert rows.shape == (3, len(features.NAMES))
    assert column["question_rank"].tolist() == pytest.approx([1.0, 1 / 3, 1 / 2])
    assert column["joint_margin"].tolist() == pytest.approx([0.2, -0.4, -0.2])
    assert column["bm25_relative"].tolist() == pytest.approx([0.9, 0.5, 0.7])
    assert column["exact_question"].tolist() == [0.0, 0.0, 0.0]
    assert column["question_parts"].tolist() == [0.0, 0.0, 0.0]
    assert features.rows(_evidence([0.99, 0.5], views=3))[:, features.NAMES.index("question_parts")].tolist() == [2, 2]


def test_a_single_candidate_has_no_margin() -> None:
    assert features.rows(_evidence([0.8]))[0, features.NAMES.index("joint_margin")] == 0.0


def test_bm25_scores_shared_stemmed_words_and_nothing_else() -> None:
    index = LexicalIndex(["babies hiccups colic", "babies fever seizure", "babies sleep"])
    scores = index.bm25("hiccupping again")
    assert scores.argmax() == 0 and scores[1] == scores[2] == 0.0
    assert index.bm25("the and of").sum() == 0.0


def test_threshold_keeps_the_required_share_answered() -> None:
    chances = np.array([0.9, 0.8, 0.7, 0.6, 0.2, 0.5, 0.1])
    in_scope = np.array([True, True, True, True, True, False, False])
    threshold = choose_threshold(chances, in_scope, min_answered=0.8)
    assert (chances[in_scope] >= threshold).mean() == 0.8
    assert threshold > 0.2


def _sample(group: str, expected: tuple[str, ...], good: float, bad: float) -> Sample:
    rows = np.zeros((2, len(features.NAMES)), dtype=np.float32)
    rows[:, 0] = [good, bad]
    return Sample(group, Labelled("q", expected), ("right", "wrong"), rows)


def test_fitted_ranker_learns_the_informative_feature_and_calibrates_out_of_fold() -> None:
    rng = np.random.default_rng(0)
    samples = [
        _sample(f"set{n % 3}", ("right",), float(rng.uniform(0.6, 1.0)), float(rng.uniform(0.0, 0.5)))
        for n in range(60)
    ] + [_sample(f"set{n % 3}", (), float(rng.uniform(0.0, 0.4)), float(rng.uniform(0.0, 0.4))) for n in range(30)]
    ranker = fit_ranker(samples)
    assert ranker.rank.weights[0] > 0 and np.count_nonzero(ranker.rank.weights) == 1  # constant columns weigh nothing
    answered = [rank_sample(ranker, s) for s in samples]
    in_scope = [a for a, s in zip(answered, samples, strict=True) if s.item.in_scope]
    assert all(a.ids[0] == "right" for a in in_scope)
    assert sum(a.answered for a in in_scope) / len(in_scope) >= 0.9
    off_topic = [a for a, s in zip(answered, samples, strict=True) if not s.item.in_scope]
    assert sum(not a.answered for a in off_topic) / len(off_topic) >= 0.8


def test_score_counts_abstentions_as_misses_and_lists_failures() -> None:
    items = [Labelled("a", ("x",)), Labelled("b", ("y",)), Labelled("c", ("z",)), Labelled("off", ())]
    ranked = [
        Ranked(("x", "y"), True, 0.9),
        Ranked(("x", "y"), True, 0.8),
        Ranked(("z",), False, 0.3),
        Ranked(("x",), False, 0.2),
    ]
    report = score(items, ranked, mrr_depth=3)
    assert report.acceptable_at_1 == pytest.approx(1 / 3)
    assert report.ranked_first == pytest.approx(2 / 3)
    assert report.mrr == pytest.approx((1 + 0.5 + 1) / 3)
    assert report.answered == pytest.approx(2 / 3)
    assert report.abstained == 1.0
    assert [(f.question, f.got) for f in report.failures] == [("b", "x"), ("c", None)]


def test_labelled_file_errors_name_the_line(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text('{"question": "q1", "expected": ["a"]}\n\n{"question": "q2", "expected": "none", "kind": "far"}\n')
    assert load_labelled(good) == [Labelled("q1", ("a",)), Labelled("q2", (), "far")]
    for body, problem in [
        ('{"question": "q", "expected": []}\n', '2: "expected"'),
        ('{"question": "", "expected": ["a"]}\n', '2: needs a non-empty "question"'),
        ("not json\n", "2: not valid JSON"),
    ]:
        bad = tmp_path / "bad.jsonl"
        bad.write_text('{"question": "fine", "expected": ["a"]}\n' + body)
        with pytest.raises(LabelledFileError, match=problem):
            load_labelled(bad)
    with pytest.raises(LabelledFileError, match="cannot read"):
        load_labelled(tmp_path / "missing.jsonl")


class _Counting(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.encoded = 0

    def encode(self, texts: list[str]) -> np.ndarray:  # type: ignore[override]
        self.encoded += len(texts)
        return super().encode(texts)


def test_cache_embeds_each_text_once_across_instances(tmp_path: Path) -> None:
    inner = _Counting()
    first = CachedEmbedder(inner, tmp_path)
    vectors = first.encode(["a b", "c d", "a b"])
    assert inner.encoded == 2 and (first.hits, first.misses) == (0, 3)
    again = CachedEmbedder(inner, tmp_path)  # as a new process would: reads what the first wrote
    np.testing.assert_array_equal(again.encode(["c d", "a b"]), vectors[[1, 0]])
    assert inner.encoded == 2 and again.hits == 2
    again.encode(["e f"])
    assert inner.encoded == 3


def test_a_damaged_cache_shard_only_costs_re_embedding(tmp_path: Path) -> None:
    inner = _Counting()
    CachedEmbedder(inner, tmp_path).encode(["a b"])
    for damage in (b"garbage", b"", b"PK\x03\x04truncated zip"):
        for shard in tmp_path.rglob("shard-*.npz"):
            shard.write_bytes(damage)
        before = inner.encoded
        assert CachedEmbedder(inner, tmp_path).encode(["a b"]).shape == (1, 64)
        assert inner.encoded == before + 1


def _ranker(weights: np.ndarray, threshold: float = 0.5) -> Ranker:
    """Ranks by `weights`; the verifier passes the rank logit through unchanged."""
    size = len(features.NAMES)
    verify = np.zeros(size + 1)
    verify[-1] = 1.0
    rank = Linear(weights, 0.0, np.zeros(len(weights)), np.ones(len(weights)))
    return Ranker(rank, Linear(verify, 0.0, np.zeros(size + 1), np.ones(size + 1)), threshold)


def test_chances_never_rise_down_the_ranking() -> None:
    size = len(features.NAMES)
    verify = np.zeros(size + 1)
    verify[0] = -10.0  # the verifier dislikes the first feature, which the rank model likes
    rank = Linear(np.eye(size)[0], 0.0, np.zeros(size), np.ones(size))
    ranker = Ranker(rank, Linear(verify, 0.0, np.zeros(size + 1), np.ones(size + 1)), 0.5)
    rows = np.zeros((3, size))
    rows[:, 0] = [0.2, 0.9, 0.5]
    order, chances = ranker.order(rows)
    assert order.tolist() == [1, 2, 0]
    assert chances[order].tolist() == sorted(chances[order].tolist(), reverse=True)


def _entry(number: int, *questions: str, answer: str) -> Entry:
    return Entry(id=f"e{number}", questions=questions, answer=answer, source="t.txt", lines=(number, number))


def test_retriever_ranks_distinct_entries_by_the_ranker_and_cites_the_matched_question() -> None:
    entries = [
        _entry(1, "Why is the sky blue?", "Where does blue sky come from?", answer="Scattering of light."),
        _entry(2, "How do fish breathe?", answer="Through gills."),
        _entry(3, "What is rain?", answer="Water falling from clouds."),
    ]
    embedder = HashingEmbedder()
    weights = np.zeros(len(features.NAMES))
    weights[features.NAMES.index("question_cosine")] = 5.0
    ranker = _ranker(weights)
    retriever = Retriever.create(build_index(entries, embedder, "fp"), embedder, ranker, None, None)
    hits = retriever.search("where does blue sky come from", limit=3)
    assert hits[0].entry.id == "e1"
    assert hits[0].matched_question == "Where does blue sky come from?"
    assert len({h.entry.id for h in hits}) == 3
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(0.0 < h.score < 1.0 for h in hits)


def test_loose_form_ignores_case_and_punctuation() -> None:
    assert loose("What do baby-spasms look like??") == "what do baby spasms look like"


def test_a_damaged_or_stale_model_file_is_a_clear_error(tmp_path: Path) -> None:
    for body, problem in [("{not json", "missing or damaged"), ('{"features": ["other"]}', "other features")]:
        bad = tmp_path / "ranker.json"
        bad.write_text(body)
        with pytest.raises(RankerFileError, match=problem):
            Ranker.load(bad)
    _ranker(np.zeros(len(features.NAMES))).save(tmp_path / "stale.json")
    body = json.loads((tmp_path / "stale.json").read_text())
    (tmp_path / "stale.json").write_text(json.dumps({**body, "features": ["a feature since removed"]}))
    with pytest.raises(RankerFileError, match="other features"):
        Ranker.load(tmp_path / "stale.json")
    (tmp_path / "types.npz").write_bytes(b"PK\x03\x04")
    with pytest.raises(RankerFileError, match="question-type model"):
        QuestionTypes.load(tmp_path / "types.npz")


def test_saved_ranker_keeps_its_threshold_exactly(tmp_path: Path) -> None:
    ranker = _ranker(np.arange(len(features.NAMES)) / 7, threshold=0.4874559)
    ranker.save(tmp_path / "r.json")
    again = Ranker.load(tmp_path / "r.json")
    assert again.threshold == ranker.threshold and np.array_equal(again.rank.weights, ranker.rank.weights)


def test_labelled_lines_may_hold_line_separators_and_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_text('\ufeff{"question": "one\u2028two", "expected": ["a"]}\n', encoding="utf-8")
    assert load_labelled(path) == [Labelled("one\u2028two", ("a",))]
    path.write_text(json.dumps({"question": "x" * 1001, "expected": ["a"]}) + "\n", encoding="utf-8")
    with pytest.raises(LabelledFileError, match="at most 1000 characters"):
        load_labelled(path)


def test_verifier_trees_give_the_logits_scikit_learn_gives() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    from qa.fitting import _trees

    rows = np.random.default_rng(0).random((400, 5))
    right = (rows[:, 0] + rows[:, 1] * rows[:, 2] > 0.7).astype(int)
    model = HistGradientBoostingClassifier(max_depth=2, max_iter=30, early_stopping=False).fit(rows, right)
    trees = _trees(model)
    assert np.allclose(trees.logits(rows), model.decision_function(rows))
    again = Trees.from_json(json.loads(json.dumps(trees.as_json())), 5)
    assert np.allclose(again.logits(rows), model.decision_function(rows))


def test_verifier_trees_of_different_depths_walk_as_one_tree_at_a_time_would() -> None:
    """A lone leaf, one split and a chain three deep, walked together: each row ends on its own leaf."""
    lone = {"feature": [-1], "threshold": [0.0], "left": [0], "right": [0], "value": [0.25]}
    one = {
        "feature": [1, -1, -1],
        "threshold": [0.5, 0, 0],
        "left": [1, 0, 0],
        "right": [2, 0, 0],
        "value": [0, 1.0, -1.0],
    }
    chain = {
        "feature": [0, -1, 2, -1, 1, -1, -1],
        "threshold": [0.3, 0, 0.6, 0, 0.2, 0, 0],
        "left": [1, 0, 3, 0, 5, 0, 0],
        "right": [2, 0, 4, 0, 6, 0, 0],
        "value": [0, 10.0, 0, 20.0, 0, 30.0, 40.0],
    }
    trees = Trees.from_json({"base": -1.0, "trees": [lone, one, chain]}, 3)

    def walk(tree: dict[str, list[float]], row: np.ndarray) -> float:
        node = 0
        while tree["feature"][node] >= 0:
            go_left = row[int(tree["feature"][node])] <= tree["threshold"][node]
            node = int(tree["left"][node] if go_left else tree["right"][node])
        return tree["value"][node]

    rows = np.random.default_rng(3).random((200, 3)).astype(np.float32)
    expected = [-1.0 + sum(walk(tree, row) for tree in (lone, one, chain)) for row in rows]
    assert np.array_equal(trees.logits(rows), np.asarray(expected))


def test_a_verifier_tree_pointing_outside_itself_is_refused() -> None:
    tree = {
        "feature": [0, -1, -1],
        "threshold": [0.5, 0, 0],
        "left": [1, 0, 0],
        "right": [7, 0, 0],
        "value": [0, 1.0, -1.0],
    }
    with pytest.raises(ValueError, match="malformed"):
        Trees.from_json({"base": 0.0, "trees": [tree]}, 3)


def test_the_best_row_of_each_kind_is_what_a_loop_over_candidates_finds() -> None:
    """Candidates with several questions each, three views, and ties (rounded cosines): per kind the best
    cosine at each view, and the question row best at any view, the first one on a tie."""
    rng = np.random.default_rng(5)
    sizes = rng.integers(1, 5, size=30)  # questions per candidate, then one answer and one joint row
    kinds = np.concatenate([np.r_[np.zeros(n), 1, 2][rng.permutation(n + 2)] for n in sizes]).astype(np.int64)
    owner = np.repeat(np.arange(30), sizes + 2)
    similarities = rng.random((len(kinds), 3)).round(1).astype(np.float32)
    question, answer, joint, matched = _best_by_kind(similarities, owner, kinds)
    for candidate in range(30):
        rows = np.flatnonzero(owner == candidate)
        for kind, best in ((0, question), (1, answer), (2, joint)):
            assert np.array_equal(best[:, candidate], similarities[rows[kinds[rows] == kind]].max(axis=0))
        asked = rows[kinds[rows] == 0]
        assert matched[candidate] == asked[int(np.argmax(similarities[asked].max(axis=1)))]
