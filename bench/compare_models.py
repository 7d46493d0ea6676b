"""Two models' in-process ceilings in one run, interleaved: is the new model slower to serve?

    python -m bench.compare_models OLD_MODEL NEW_MODEL [--dtype bfloat16] [--rounds 3]

Each round measures both (the order alternates), with the app's own loader at the serving precision,
best batch size and thread count (bench/ceiling.py); the best of the rounds is kept per model and the
ratio printed. `make baseline` leaves the previous embedded model in .cache/previous-model-COMMIT/.
"""

from __future__ import annotations

import argparse

from bench.ceiling import measure_ceiling
from bench.texts import review_texts
from sentiment_demo.backends.torch_device import cpu_supports_bf16


def main() -> None:
    """Print each round's sentences/s and single-text latency, then the best-of ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--dtype", default="bfloat16" if cpu_supports_bf16() else "float32")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--texts", type=int, default=512)
    args = parser.parse_args()
    texts = review_texts(args.texts)
    best: dict[str, float] = {"old": 0.0, "new": 0.0}
    single: dict[str, float] = {"old": float("inf"), "new": float("inf")}
    for round_ in range(args.rounds):
        order = ("old", "new") if round_ % 2 == 0 else ("new", "old")
        for which in order:
            result = measure_ceiling(getattr(args, which), args.dtype, texts, (32,), (2,))
            best[which] = max(best[which], result.sentences_per_s)
            single[which] = min(single[which], result.single_forward_ms)
            print(
                f"round {round_ + 1} {which}: {result.sentences_per_s:.1f} sentences/s, "
                f"one text {result.single_forward_ms:.1f} ms",
                flush=True,
            )
    print(f"{args.dtype}, bf16 on this CPU: {cpu_supports_bf16()}, {len(texts)} texts, batch 32")
    print(f"new / old ceiling: {best['new'] / best['old']:.3f}")
    print(f"new / old single-text latency: {single['new'] / single['old']:.3f}")


if __name__ == "__main__":
    main()
