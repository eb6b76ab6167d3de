"""How the abstain threshold was chosen, reproducibly. Run: `.venv/bin/python bench/calibrate.py`.

For every labelled question it records the top entry and its mixed similarity;
for every off-topic question, the best similarity. It then sweeps the
threshold and prints, for the tuning set and the held-out set, how many
in-domain questions get an acceptable first answer *and are answered*, and how
many off-topic ones abstain. The default threshold is the lowest value at which
every tuning off-topic question abstains, rounded up (README: choosing the threshold).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.config import PROJECT_ROOT, Settings
from qa.embedder import SentenceTransformerEmbedder
from qa.service import build, open_retriever

DATA = PROJECT_ROOT / "tests" / "data"
SETS = {
    "tuning": ("labelled_questions.jsonl", "offtopic_questions.jsonl"),
    "held-out": ("heldout_questions.jsonl", "heldout_offtopic.jsonl"),
    # Written later by someone who saw only the corpus; off-topic rows have an empty accept list.
    "held-out 2": ("retrieval_heldout2.jsonl", "retrieval_heldout2.jsonl"),
}


def read(name: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in (DATA / name).read_text().splitlines() if line.strip()]


def main() -> None:
    embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(corpus=[PROJECT_ROOT / "corpus"], index_dir=Path(tmp))
        build(settings.corpus, settings.index_dir, embedder)
        retriever = open_retriever(settings, embedder)
    print(f"current threshold: {retriever.scoring.abstain_threshold}\n")
    for name, (labelled_file, off_file) in SETS.items():
        labelled = [x for x in read(labelled_file) if x.get("accept", True)]
        off = [x for x in read(off_file) if not x.get("accept")]
        hits = retriever.search_many([str(x["q"]) for x in labelled], 1)
        right = [(h[0].similarity, h[0].entry.id in x["accept"]) for h, x in zip(hits, labelled, strict=True)]
        off_best = [h[0].similarity for h in retriever.search_many([str(x["q"]) for x in off], 1)]
        top1 = sum(ok for _, ok in right)
        print(f"{name}: {len(labelled)} in-domain, {len(off)} off-topic; top-1 acceptable {top1}/{len(labelled)}")
        print(f"  highest off-topic similarity {max(off_best):.3f}")
        print("  threshold  answered-correctly  off-topic-abstained")
        for step in range(36, 56, 2):
            t = step / 100
            answered = sum(ok and s >= t for s, ok in right)
            print(
                f"  {t:9.2f}  {answered:3d}/{len(labelled)} ({answered / len(labelled):5.1%})"
                f"  {sum(s < t for s in off_best):3d}/{len(off)}"
            )
        for (similarity, ok), item in zip(right, labelled, strict=True):
            if not ok or similarity < retriever.scoring.abstain_threshold:
                print(f"  miss: {item['q']!r} ({similarity:.3f}, {'wrong entry' if not ok else 'abstained'})")
        print()


if __name__ == "__main__":
    main()
