"""How well the red-flag detector does on labelled phrasing sets. Run: `make bench`.

Prints, for each set, emergency recall (fired at the emergency tier), urgent recall (fired at all)
and false alarms among the benign messages, for the rules alone and for rules plus the example
bank's second opinion (as the service runs it). A new set written by someone who has not seen the
rules is the honest test: measure it here on first sight, before fixing anything
(`bench/safety.py /path/to/new_set.jsonl --misses`). Once a set has joined the example bank, the
third row ("bank w/o set") still estimates the second opinion on unseen wording: its classifier is
trained on the bank without that set's messages (the rules, though, have seen it). `--sweep` does that
for several classifier thresholds; the last table is the detector's start-up and per-message time.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.config import PROJECT_ROOT, get_settings
from qa.embedder import SentenceTransformerEmbedder
from qa.safety import RedFlagDetector
from qa.safety.second_opinion import Example, load_examples

DATA = PROJECT_ROOT / "tests" / "data"


def read(path: Path) -> list[tuple[str, str | None]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(str(row["text"]), row["tier"]) for row in rows]


def score(detector: RedFlagDetector, rows: list[tuple[str, str | None]]) -> tuple[str, list[str]]:
    counts = {"emergency": [0, 0], "urgent": [0, 0], None: [0, 0]}
    misses: list[str] = []
    for text, tier in rows:
        result = detector.check(text)
        ok = result.tier == "emergency" if tier == "emergency" else result.triggered == (tier is not None)
        counts[tier][0] += ok if tier is not None else result.triggered
        counts[tier][1] += 1
        if not ok:
            misses.append(f"  [{tier or 'benign'} -> {result.tier or 'nothing'} {','.join(result.terms)}] {text}")
    (e, ne), (u, nu), (fa, nb) = counts["emergency"], counts["urgent"], counts[None]
    return f"{e:3d}/{ne:<3d} {u:3d}/{nu:<3d} {fa:3d}/{nb:<3d} ({fa / max(nb, 1):5.1%})", misses


def held_out(rows: list[tuple[str, str | None]], bank: list[Example]) -> RedFlagDetector:
    """The detector with a classifier trained on the bank without these messages."""
    texts = {text for text, _ in rows}
    unseen = [example for example in bank if example.text not in texts]
    return RedFlagDetector(known_words=VOCABULARY, embedder=EMBEDDER, examples=unseen)


def sweep(sets: list[Path], thresholds: list[float], bank: list[Example]) -> None:
    """Classifier alone (recall on alarming messages) and with the rules (false alarms), each set held out."""
    caught = {t: 0 for t in thresholds}
    alarms = {t: 0 for t in thresholds}
    alarming = benign = 0
    for path in sets:
        rows = read(path)
        detector = held_out(rows, bank)
        alone = copy.copy(detector)
        alone.book = dataclasses.replace(detector.book, rules=())
        alarming += sum(tier is not None for _, tier in rows)
        benign += sum(tier is None for _, tier in rows)
        for threshold in thresholds:
            assert detector.second_opinion is not None
            detector.second_opinion.threshold = threshold
            caught[threshold] += sum(alone.check(text).triggered for text, tier in rows if tier is not None)
            alarms[threshold] += sum(detector.check(text).triggered for text, tier in rows if tier is None)
    print(f"\nthreshold sweep, each of {len(sets)} sets held out ({alarming} alarming, {benign} benign)")
    print("threshold  classifier alone  rules+classifier false alarms")
    for t in thresholds:
        alone = f"{caught[t]:4d}/{alarming} ({caught[t] / alarming:5.1%})"
        print(f"{t:9.2f}  {alone}  {alarms[t]:4d}/{benign} ({alarms[t] / benign:5.1%})")


def speed(messages: list[str]) -> None:
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        RedFlagDetector(known_words=VOCABULARY, embedder=EMBEDDER, cache_dir=Path(cache))
        cold = time.perf_counter() - started
        started = time.perf_counter()
        detector = RedFlagDetector(known_words=VOCABULARY, embedder=EMBEDDER, cache_dir=Path(cache))
        warm = time.perf_counter() - started
    times = []
    for message in messages:
        started = time.perf_counter()
        detector.check(message)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    words = " ".join(messages).lower().split()
    rng = random.Random(1)
    worst = 0.0
    for _ in range(200):  # 1,000-character messages made of the phrasings' own words
        message = " ".join(rng.choice(words) for _ in range(250))[:1000]
        started = time.perf_counter()
        detector.check(message)
        worst = max(worst, (time.perf_counter() - started) * 1000)
    print(f"\ndetector start: {cold:.1f} s with an empty vector cache, {warm:.1f} s with it")
    print(f"check over {len(times)} phrasings: p50 {statistics.median(times):.1f} ms,"
          f" p99 {times[int(len(times) * 0.99)]:.1f} ms, max {times[-1]:.1f} ms;"
          f" 200 random 1,000-character messages: max {worst:.1f} ms")  # fmt: skip


EMBEDDER = SentenceTransformerEmbedder(get_settings().model)
VOCABULARY = EMBEDDER.vocabulary()
CACHE = get_settings().index_dir / "cache"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", type=Path, help="JSONL phrasing sets (default: tests/data/redflag_*.jsonl)")
    parser.add_argument("--misses", action="store_true", help="list every missed or false-alarm message")
    parser.add_argument("--sweep", metavar="T,T,...", help="classifier thresholds to compare, each set held out")
    args = parser.parse_args()
    sets = args.sets or sorted(DATA.glob("redflag_*.jsonl"))
    bank = load_examples()
    if args.sweep:
        sweep(sets, [float(t) for t in args.sweep.split(",")], bank)
        return
    detectors = {
        "rules": RedFlagDetector(known_words=VOCABULARY),
        "rules+bank": RedFlagDetector(known_words=VOCABULARY, embedder=EMBEDDER, cache_dir=CACHE),
    }
    print(f"{'set':28s} {'detector':12s} {'emergency':>9s} {'urgent':>7s} {'false alarms':>16s}")
    for path in sets:
        rows = read(path)
        if {text for text, _ in rows} & {example.text for example in bank}:
            detectors["bank w/o set"] = held_out(rows, bank)
        else:
            detectors.pop("bank w/o set", None)
        for name, detector in detectors.items():
            line, misses = score(detector, rows)
            print(f"{path.name:28s} {name:12s} {line}")
            if args.misses:
                print("\n".join(misses))
    speed([text for path in sets for text, _ in read(path)])


if __name__ == "__main__":
    main()
