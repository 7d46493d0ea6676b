"""What the unpadded forward buys in-process: speed on random batches, and memory over many shapes.

A server's batches hold whatever texts arrived together, not texts sorted by length. This runs the app's
own loader on the same random batches with the padded and the unpadded forward, then on length-sorted
batches (the ceiling's case), and reports the resident memory after each. Run: python -m bench.padding
"""

from __future__ import annotations

import argparse
import os
import random

from bench.ceiling import sentences_per_s
from bench.load import resident_mb
from bench.texts import review_texts
from sentiment_demo.backends.transformers_backend import load_classifier
from sentiment_demo.config import DEFAULT_MODEL, Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    parser.add_argument("--dtype", default="bfloat16")
    parser.add_argument("--texts", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()

    texts = review_texts(args.texts)
    rng = random.Random(0)
    # Random sizes as well as random texts: the variety of shapes a server sees.
    random_batches, start = [], 0
    while start < len(texts):
        size = rng.randint(1, args.batch)
        random_batches.append(texts[start : start + size])
        start += size
    ordered = sorted(texts, key=len)
    sorted_batches = [ordered[i : i + args.batch] for i in range(0, len(ordered), args.batch)]

    settings = Settings(model=args.model, dtype=args.dtype, device="cpu", warmup=True)
    rates = {}
    for unpadded in (False, True):
        classifier, info = load_classifier(settings.with_overrides(unpadded=unpadded))
        sentences_per_s(classifier, random_batches[:20])  # warm up
        before = resident_mb(os.getpid())
        rates[info.forward] = sentences_per_s(classifier, random_batches)
        after = resident_mb(os.getpid())
        sorted_rate = sentences_per_s(classifier, sorted_batches)
        print(
            f"{info.forward:>8} forward: random batches of 1-{args.batch} texts "
            f"{rates[info.forward]:6.0f} sentences/s, length-sorted batches of {args.batch} "
            f"{sorted_rate:6.0f}; RSS {before:.0f} -> {after:.0f} MiB over {len(texts)} texts",
            flush=True,
        )
        del classifier
    print(f"unpadded / padded on random batches: {rates['unpadded'] / rates['padded']:.2f}")


if __name__ == "__main__":
    main()
