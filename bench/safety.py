"""How well the red-flag detector does on the labelled phrasing sets in eval/safety. Run: `make bench`.

For each set: emergency recall (fired at the emergency tier), urgent recall (fired at all) and false
alarms among benign messages, for the rules alone and for rules plus the second opinion as the service
runs it, with the classifier trained WITHOUT that set (leave-one-set-out: the honest figure once a set
has joined the bank; the rules, though, have seen every set). A new set is measured on first sight,
before anything is learned from it: `bench/safety.py NEW.jsonl --misses`.

`--compare` measures the second opinion's feature options side by side, leave-one-set-out; `--sweep`
its threshold. The last table is the detector's start-up and per-message time.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.config import PROJECT_ROOT, get_settings
from qa.embedder import open_embedder
from qa.records import RedFlag
from qa.safety import RedFlagDetector, load_rules, second_opinion
from qa.safety.evaluation import PhrasingSet, Score, load_sets, read_set, score
from qa.safety.second_opinion import DEFAULT_FEATURES, FEATURES, Example, load_examples

SETS = PROJECT_ROOT / "eval" / "safety"
EMBEDDER = open_embedder(get_settings())  # QA_BACKEND picks the backend measured
VOCABULARY = EMBEDDER.vocabulary()
CACHE = get_settings().model_cache
BOOK = load_rules()


def without(bank: list[Example], origin: str) -> list[Example]:
    return [example for example in bank if example.origin != origin]


def detector(bank: list[Example], features: str = DEFAULT_FEATURES, threshold: float | None = None) -> RedFlagDetector:
    found = RedFlagDetector(
        book=BOOK, known_words=VOCABULARY, embedder=EMBEDDER, cache_dir=CACHE, examples=bank, features=features
    )
    if threshold is not None and found.second_opinion is not None:
        found.second_opinion.threshold = threshold
    return found


def table(sets: Sequence[PhrasingSet], bank: list[Example], show_misses: bool) -> None:
    rules = RedFlagDetector(book=BOOK, known_words=VOCABULARY)
    print(f"{'set':18s} {'detector':22s} {'emergency':>9s} {'urgent':>7s} {'false alarms':>17s}")
    total = Score()
    for phrasing_set in sets:
        in_bank = any(example.origin == phrasing_set.file for example in bank)
        rows = {
            "rules": rules,
            "rules+classifier" + (" (set out)" if in_bank else ""): detector(without(bank, phrasing_set.file)),
        }
        for name, candidate in rows.items():
            result = score(candidate.check, phrasing_set.rows)
            print(f"{phrasing_set.file:18s} {name:22s} {result.line()}")
            if name != "rules":
                for key, (hit, count) in result.counts.items():
                    total.counts[key][0] += hit
                    total.counts[key][1] += count
            if show_misses:
                for phrasing, flag in result.misses:
                    print(f"    [{phrasing.tier or 'benign'} -> {flag.tier or 'nothing'} {','.join(flag.terms)}]"
                          f" {phrasing.kind}: {phrasing.text}")  # fmt: skip
    print(f"{'all sets':18s} {'rules+classifier':22s} {total.line()}")


KEYWORDS = {
    # The simplest reasonable detector, for comparison only: a keyword anywhere fires its tier.
    "emergency": ("not breathing", "stopped breathing", "breath", "blue", "grey", "gray", "purple", "mottled",
                  "seizure", "fit", "fitting", "convuls", "floppy", "limp", "unresponsive", "wake", "rash",
                  "fontanelle", "soft spot", "stiff neck", "choking", "choke", "fever", "temperature", "head"),
    "urgent": ("spasm", "cluster", "stopped smiling", "cry"),
}  # fmt: skip


def keyword_baseline(text: str) -> RedFlag:
    lowered = text.lower()
    for tier in ("emergency", "urgent"):
        if any(word in lowered for word in KEYWORDS[tier]):
            return RedFlag(triggered=True, tier=tier)
    return RedFlag()


def markdown(sets: Sequence[PhrasingSet], bank: list[Example]) -> None:
    """The README table: each set's first-sight figures beside its leave-one-set-out figures now."""

    def cell(counts: Sequence[int]) -> str:
        e, ne, u, nu, fa, nb = counts
        return f"{e}/{ne} | {u}/{nu} | {fa}/{nb} ({fa / max(nb, 1):.0%})"

    print("| set | first sight: emergency | urgent | false alarms | left out now: emergency | urgent | false alarms |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for phrasing_set in sets:
        result = score(detector(without(bank, phrasing_set.file)).check, phrasing_set.rows)
        now = [n for key in ("emergency", "urgent", "benign") for n in result.counts[key]]
        first = cell(phrasing_set.first_sight) if phrasing_set.first_sight else "- | - | -"
        print(f"| {phrasing_set.file} | {first} | {cell(now)} |")


def compare(sets: Sequence[PhrasingSet], bank: list[Example], options: list[str], threshold: float | None) -> None:
    """Each feature option, each held-out set left out of training in turn; totals over those sets."""
    held = [s for s in sets if s.held_out]
    print(f"\nsecond opinion options, leave-one-set-out over {len(held)} held-out sets")
    print(f"{'features':22s} {'classifier alone: alarming caught':>34s}   rules+classifier: emergency, urgent, alarms")
    for features in options:
        full, caught, alarming = Score(), 0, 0
        for phrasing_set in held:
            candidate = detector(without(bank, phrasing_set.file), features, threshold)
            assert candidate.second_opinion is not None
            for row in phrasing_set.rows:
                full.add(row, candidate.check(row.text))
                if row.tier is not None:
                    caught += candidate.second_opinion.opinion(row.text) is not None
                    alarming += 1
        print(f"{features:22s} {caught:>20d}/{alarming} ({caught / alarming:5.1%})   {full.line()}")


def speed(messages: list[str]) -> None:
    with tempfile.TemporaryDirectory() as cache:
        second_opinion.forget_vectors()  # a cold start: no vectors in memory, none on disk
        started = time.perf_counter()
        RedFlagDetector(known_words=VOCABULARY, embedder=EMBEDDER, cache_dir=Path(cache))
        cold = time.perf_counter() - started
        started = time.perf_counter()
        warm_detector = RedFlagDetector(known_words=VOCABULARY, embedder=EMBEDDER, cache_dir=Path(cache))
        warm = time.perf_counter() - started
    times = []
    for message in messages:
        started = time.perf_counter()
        warm_detector.check(message)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    words = " ".join(messages).lower().split()
    rng = random.Random(1)
    worst = 0.0
    for _ in range(200):  # 1,000-character messages made of the phrasings' own words
        message = " ".join(rng.choice(words) for _ in range(250))[:1000]
        started = time.perf_counter()
        warm_detector.check(message)
        worst = max(worst, (time.perf_counter() - started) * 1000)
    raw = []
    for message in messages[:500]:
        started = time.perf_counter()
        EMBEDDER.encode([message])
        raw.append((time.perf_counter() - started) * 1000)
    raw.sort()
    print(f"\ndetector start: {cold:.1f} s with an empty vector cache, {warm:.1f} s with it")
    print(f"check over {len(times)} phrasings: p50 {statistics.median(times):.1f} ms,"
          f" p99 {times[int(len(times) * 0.99)]:.1f} ms, max {times[-1]:.1f} ms;"
          f" 200 random 1,000-character messages: max {worst:.1f} ms")  # fmt: skip
    print(f"raw model encode of one message (same run, 500 phrasings): p50 {statistics.median(raw):.1f} ms,"
          f" p99 {raw[int(len(raw) * 0.99)]:.1f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", type=Path, help="JSONL phrasing sets (default: every set in eval/safety)")
    parser.add_argument("--misses", action="store_true", help="list every missed or false-alarm message")
    parser.add_argument("--compare", metavar="F,F,...", help=f"feature options to compare ({', '.join(FEATURES)})")
    parser.add_argument("--threshold", type=float, help="classifier threshold for --compare (default: the product's)")
    parser.add_argument("--markdown", action="store_true", help="print the README table (first sight, left out now)")
    parser.add_argument("--speed", action="store_true", help="only the timing table")
    parser.add_argument("--baseline", action="store_true", help="the keyword baseline beside the detector on each set")
    parser.add_argument("--no-speed", action="store_true", help="skip the timing table")
    args = parser.parse_args()
    known = load_sets(SETS)
    sets = [PhrasingSet(path.name, "given", tuple(read_set(path))) for path in args.sets] if args.sets else known
    bank = load_examples()
    if args.baseline:
        for phrasing_set in sets:
            base = score(keyword_baseline, phrasing_set.rows)
            print(f"{phrasing_set.file:18s} keywords {base.line()}")
        return
    if args.speed:
        speed([row.text for phrasing_set in sets for row in phrasing_set.rows])
        return
    if args.markdown:
        markdown(sets, bank)
        return
    if args.compare:
        compare(sets, bank, args.compare.split(","), args.threshold)
        return
    table(sets, bank, args.misses)
    if not args.no_speed:
        speed([row.text for phrasing_set in sets for row in phrasing_set.rows])


if __name__ == "__main__":
    main()
