"""Rebuild qa/data/redflag_examples.jsonl, the example bank of the red-flag second opinion.

It gathers every labelled phrasing set in eval/safety (listed with its origin in sets.toml) and
tags each alarming phrasing with the concepts the rules find in it, so the bank needs no hand
labelling and stays in step with the rules; each row keeps the set it came from (`origin`), so a
measurement can leave one set out. Run after changing the rules or adding a set:

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
from qa.safety.evaluation import ANY, all_rows, load_sets  # noqa: E402
from qa.safety.second_opinion import EXAMPLES_FILE  # noqa: E402

SETS = ROOT / "eval" / "safety"


def main() -> None:
    rows = [row for row in all_rows(load_sets(SETS)) if row.tier != ANY]
    # Rules only (no embedder): the bank is tagged by the reviewed rules, never by itself.
    detector = RedFlagDetector(known_words=SentenceTransformerEmbedder(get_settings().model).vocabulary())
    with EXAMPLES_FILE.open("w", encoding="utf-8") as out:
        for row in rows:
            concepts = [f.concept for f in detector.findings(row.text)] if row.tier else []
            if row.tier and not concepts:  # still teaches the classifier, but cannot name a concept
                print(f"note: no rule finds this {row.tier} example (kept, untagged): {row.text}")
            line = {"text": row.text, "tier": row.tier, "concepts": concepts, "origin": row.origin}
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} examples to {EXAMPLES_FILE}")


if __name__ == "__main__":
    main()
