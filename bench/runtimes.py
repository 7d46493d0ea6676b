"""Sentences per second of each CPU runtime of the embedded model, in one short run (noisy on a shared CPU).

torch float32, torch bfloat16 (where the CPU has native bf16), ONNX float32 and ONNX int8 (made by
`make onnx`, or exported here into the cache on first run), each on a sorted mix (texts arrive in
length order) and a random mix, through the same classify_batch the app calls. The runtimes take
turns for `--rounds` rounds and each keeps its best, so a busy moment does not land on one of them;
ratios are against torch float32 in the same run.

    python -m bench.runtimes [--texts 512] [--threads 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from bench.texts import review_texts
from sentiment_demo.backends.onnx_backend import OnnxClassifier, onnx_folder, prepare
from sentiment_demo.backends.onnx_export import FLOAT32_FILE, INT8_FILE
from sentiment_demo.backends.torch_device import cpu_supports_bf16
from sentiment_demo.backends.transformers_backend import load_classifier
from sentiment_demo.config import DEFAULT_MODEL, Settings


def rate(classify: object, texts: list[str], batch: int) -> float:
    """Texts per second, `batch` texts per call, after one warm call."""
    call = classify.classify_batch  # type: ignore[attr-defined]
    call(texts[:batch])
    started = time.perf_counter()
    for start in range(0, len(texts), batch):
        call(texts[start : start + batch])
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    """Print a table: runtime, sorted mix, random mix."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=512)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    args = parser.parse_args()
    texts = review_texts(args.texts)
    mixes = {"sorted": sorted(texts, key=len), "random": random.Random(0).sample(texts, len(texts))}
    base = Settings(model=args.model, device="cpu", num_threads=args.threads, warmup=False)
    rows: dict[str, object] = {}
    torch32, _ = load_classifier(base.with_overrides(dtype="float32"))
    rows["torch float32"] = torch32
    if cpu_supports_bf16():
        rows["torch bfloat16"] = load_classifier(base.with_overrides(dtype="bfloat16"))[0]
    out = onnx_folder(Path(args.model), base)
    prepared = prepare(Path(args.model), out, torch32.model, torch32.tokenizer, args.threads)
    print(f"gate: {prepared.note}")
    for name, file in (("onnx float32", FLOAT32_FILE), ("onnx int8", INT8_FILE)):
        if (out / file).is_file():
            rows[name] = OnnxClassifier(
                out / file,
                torch32.model.config,
                torch32.tokenizer,
                torch32.max_tokens,
                32,
                8192,
                args.threads,
            )
    print(
        f"{len(texts)} texts, batches of 32, {args.threads} threads, best of {args.rounds} "
        "interleaved rounds (shared CPU: noisy)"
    )
    best = {name: [0.0, 0.0] for name in rows}
    for _ in range(args.rounds):
        for name, classifier in rows.items():
            for column, mix in enumerate(mixes.values()):
                best[name][column] = max(best[name][column], rate(classifier, mix, 32))
    base_rates = best["torch float32"]
    print(f"{'runtime':<16}{'sorted /s':>10}{'random /s':>10}{'x torch float32':>18}")
    for name, (on_sorted, on_random) in best.items():
        ratios = f"{on_sorted / base_rates[0]:.2f} / {on_random / base_rates[1]:.2f}"
        print(f"{name:<16}{on_sorted:>10.1f}{on_random:>10.1f}{ratios:>18}", flush=True)


if __name__ == "__main__":
    main()
