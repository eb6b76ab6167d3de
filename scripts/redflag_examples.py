"""Regenerate qa/data/redflag_examples.jsonl, the example bank of the red-flag second opinion.

It gathers the labelled phrasings (the shared reference's examples and our phrasing sets in
tests/data), and tags each alarming one with the concepts the rules find in it, so the bank
needs no hand labelling and stays in step with the rules. Run after changing either:

    .venv/bin/python scripts/redflag_examples.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.config import get_settings  # noqa: E402
from qa.embedder import SentenceTransformerEmbedder  # noqa: E402
from qa.safety.detector import RedFlagDetector  # noqa: E402
from qa.safety.second_opinion import EXAMPLES_FILE  # noqa: E402

DATA = ROOT / "tests" / "data"
# Every phrasing set in tests/data. A new set is measured on first sight (bench/safety.py) before it joins.
PHRASING_SETS = sorted(path.name for path in DATA.glob("redflag_*.jsonl"))
TIERS = {"EMERGENCY": "emergency", "EMERGENCY_OR_IMMEDIATE": "emergency"}


def main() -> None:
    reference = json.loads((DATA / "redflag_reference.json").read_text())
    labelled: list[tuple[str, str | None]] = []
    for concept in reference["concepts"]:
        labelled += [(text, TIERS.get(concept["tier"], "urgent")) for text in concept["phrasings"]]
    labelled += [(text, None) for group in reference["benign"].values() for text in group]
    for name in PHRASING_SETS:
        labelled += [(item["text"], item["tier"]) for item in map(json.loads, (DATA / name).read_text().splitlines())]
    # Rules only (no embedder): the bank is tagged by the reviewed rules, never by itself.
    detector = RedFlagDetector(known_words=SentenceTransformerEmbedder(get_settings().model).vocabulary())
    rows = [(text, tier, [f.concept for f in detector.findings(text)] if tier else []) for text, tier in labelled]
    # An alarming example no rule finds still teaches the classifier, but cannot name a concept.
    for text, tier, concepts in rows:
        if tier and not concepts:
            print(f"note: no rule finds this {tier} example (kept, untagged): {text}")
    with EXAMPLES_FILE.open("w", encoding="utf-8") as out:
        for text, tier, concepts in rows:
            out.write(json.dumps({"text": text, "tier": tier, "concepts": concepts}, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} examples to {EXAMPLES_FILE}")


if __name__ == "__main__":
    main()
