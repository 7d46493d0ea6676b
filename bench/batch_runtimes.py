"""The Batch tab's 1,000 rows end to end, once per CPU runtime, in one run (ratios to torch float32).

Each runtime gets its own launched app (`app.py --runtime R --dtype D`); the rows go through
`/classify_batch`, the Batch tab's own event, with gradio_client, after one warm call of 100 rows.
The time includes queueing, the table, the chart data and the CSV file: what a user waits for.

    python -m bench.batch_runtimes [--rows 1000] [--model DIR]
"""

from __future__ import annotations

import argparse
import sys
import time

from gradio_client import Client

from bench.run import LOOPBACK_USERS, free_port, server
from bench.texts import review_texts
from sentiment_demo.backends.torch_device import cpu_supports_bf16
from sentiment_demo.config import DEFAULT_MODEL

RUNTIMES = {
    "torch float32": ("torch", "float32"),
    "torch bfloat16": ("torch", "bfloat16"),
    "onnx (int8 if gated in)": ("onnx", "float32"),
}


def batch_seconds(port: int, texts: list[str]) -> float:
    """Seconds for one /classify_batch call with these texts, one per line, after a warm call."""
    client = Client(f"http://127.0.0.1:{port}/", verbose=False)
    client.predict("\n".join(texts[:100]), None, None, api_name="/classify_batch")
    started = time.perf_counter()
    table, _, _, summary = client.predict("\n".join(texts), None, None, api_name="/classify_batch")
    seconds = time.perf_counter() - started
    rows = len(table["data"]) if isinstance(table, dict) else len(table)
    if rows != len(texts):
        raise RuntimeError(f"{rows} rows came back for {len(texts)} texts: {summary}")
    return seconds


def main() -> None:
    """Print seconds and rows per second per runtime, and the ratio to torch float32."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    args = parser.parse_args()
    texts = review_texts(args.rows)
    results: dict[str, float] = {}
    for name, (runtime, dtype) in RUNTIMES.items():
        if dtype == "bfloat16" and not cpu_supports_bf16():
            continue
        port = free_port()
        env = LOOPBACK_USERS | {
            "SENTIMENT_PORT": str(port),
            "SENTIMENT_MODEL": args.model,
            "SENTIMENT_RUNTIME": runtime,
            "SENTIMENT_DTYPE": dtype,
        }
        with server(f"batch-{runtime}-{dtype}", [sys.executable, "app.py"], port, env):
            results[name] = batch_seconds(port, texts)
        print(
            f"{name:<26}{results[name]:>8.1f} s{args.rows / results[name]:>8.1f} rows/s", flush=True
        )
    reference = results["torch float32"]
    print(f"{args.rows} rows, one per line, bf16 on this CPU: {cpu_supports_bf16()}")
    for name, seconds in results.items():
        print(f"{name:<26}{reference / seconds:>6.2f}x torch float32")


if __name__ == "__main__":
    main()
