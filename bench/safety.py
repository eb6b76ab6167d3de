"""How well the red-flag detector does on labelled phrasing sets. Run: `make bench`.

Prints, for each set, emergency recall (fired at the emergency tier), urgent recall (fired at all)
and false alarms among the benign messages, for the rules alone and for rules plus the example
bank's second opinion (as the service runs it). A new set written by someone who has not seen the
rules is the honest test: measure it here on first sight, before fixing anything
(`bench/safety.py /path/to/new_set.jsonl --misses`). Once a set has joined the example bank, the
third row ("bank w/o set") still estimates the second opinion on unseen wording: its classifier is
trained on the bank without that set's messages (the rules, though, have seen it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.config import PROJECT_ROOT, get_settings
from qa.embedder import SentenceTransformerEmbedder
from qa.safety import RedFlagDetector
from qa.safety.second_opinion import load_examples

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", type=Path, help="JSONL phrasing sets (default: tests/data/redflag_*.jsonl)")
    parser.add_argument("--misses", action="store_true", help="list every missed or false-alarm message")
    args = parser.parse_args()
    sets = args.sets or sorted(DATA.glob("redflag_*.jsonl"))
    embedder = SentenceTransformerEmbedder(get_settings().model)
    vocabulary = embedder.vocabulary()
    detectors = {
        "rules": RedFlagDetector(known_words=vocabulary),
        "rules+bank": RedFlagDetector(known_words=vocabulary, embedder=embedder),
    }
    print(f"{'set':28s} {'detector':12s} {'emergency':>9s} {'urgent':>7s} {'false alarms':>16s}")
    bank = load_examples()
    for path in sets:
        rows = read(path)
        texts = {text for text, _ in rows}
        if texts & {example.text for example in bank}:
            unseen = [example for example in bank if example.text not in texts]
            detectors["bank w/o set"] = RedFlagDetector(known_words=vocabulary, embedder=embedder, examples=unseen)
        else:
            detectors.pop("bank w/o set", None)
        for name, detector in detectors.items():
            line, misses = score(detector, rows)
            print(f"{path.name:28s} {name:12s} {line}")
            if args.misses:
                print("\n".join(misses))


if __name__ == "__main__":
    main()
