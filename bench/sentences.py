"""The sentence view under load, in one run on the embedded model (about a minute on 2 cores).

1. Sentences per second through the app (`/sentences`, one long document per call) against the
   engine's own rate on the same sentences (BatchEngine.classify in-process), alternated twice.
2. The wait of a single short text (`/classify`) on an idle app, then while 8 users each send a
   5,000-word document to `/sentences`, beside the time of one full forward pass (the bound the fair
   scheduler gives single texts: the pass in flight, then theirs).

    .venv/bin/python -m bench.sentences [--words 5000] [--users 8] [--threads 1]

gradio_client costs 75-95 ms of client CPU per call on these machines; it is in both the idle and
the loaded single-text figures. Figures on a shared machine are noisy: compare only within one run.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

from gradio_client import Client

from bench.texts import review_texts
from sentiment_demo.backends import load_model
from sentiment_demo.backends.torch_device import cpu_supports_bf16
from sentiment_demo.config import DEFAULT_MODEL, Settings
from sentiment_demo.core.engine import BatchEngine
from sentiment_demo.documents.segment import split_sentences
from sentiment_demo.service import build_service
from tests.conftest import free_port

SHORT = "The battery died after an hour."


def document(words: int, seed: int) -> str:
    """Review snippets joined until the document has `words` words."""
    parts: list[str] = []
    count = 0
    for text in review_texts(words // 5, seed=seed):
        parts.append(text if text.rstrip()[-1:] in ".!?" else text + ".")
        count += len(text.split())
        if count >= words:
            break
    return " ".join(parts)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=5000)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)

    settings = Settings(
        num_threads=args.threads,
        max_document_chars=args.words * 12,
        max_document_sentences=5000,
    )
    classifier, info = load_model(str(DEFAULT_MODEL), settings)
    engine = BatchEngine(classifier, settings.max_text_chars)
    service = build_service(classifier, info, settings)
    url = service.launch(server_name="127.0.0.1", server_port=free_port(), quiet=True)
    print(
        f"model {info.model} on {info.device} ({info.dtype}, {args.threads} thread(s)); "
        f"cpu_supports_bf16={cpu_supports_bf16()}"
    )
    try:
        docs = [document(args.words, seed=i) for i in range(args.users)]
        sentences = [s.text for s in split_sentences(docs[0])]
        print(
            f"documents: {args.words:,} words, {len(docs[0]):,} characters, "
            f"{len(sentences)} sentences"
        )
        client = Client(url, verbose=False)

        engine_rates, app_rates = [], []
        for _ in range(2):
            started = time.perf_counter()
            engine.classify(sentences)
            engine_rates.append(len(sentences) / (time.perf_counter() - started))
            started = time.perf_counter()
            *_, report = client.predict(docs[0], "", "", api_name="/sentences")
            app_rates.append(len(report["sentences"]) / (time.perf_counter() - started))
        ratio = max(app_rates) / max(engine_rates)
        print(f"engine alone: {', '.join(f'{r:.0f}' for r in engine_rates)} sentences/s")
        print(f"through /sentences: {', '.join(f'{r:.0f}' for r in app_rates)} sentences/s")
        print(f"app / engine (best of each): {ratio:.2f} (target >= 0.8)")

        batch = sentences[: settings.max_batch_size]
        started = time.perf_counter()
        engine.classify(batch)
        pass_s = time.perf_counter() - started
        idle = []
        for _ in range(10):
            started = time.perf_counter()
            client.predict(SHORT, api_name="/classify")
            idle.append(time.perf_counter() - started)

        doc_seconds: list[float] = []

        def user(text: str) -> None:
            own = Client(url, verbose=False)
            began = time.perf_counter()
            own.predict(text, "", "", api_name="/sentences")
            doc_seconds.append(time.perf_counter() - began)

        users = [threading.Thread(target=user, args=(doc,)) for doc in docs]
        began = time.perf_counter()
        for thread in users:
            thread.start()
        loaded = []
        while any(thread.is_alive() for thread in users):
            started = time.perf_counter()
            client.predict(SHORT, api_name="/classify")
            loaded.append(time.perf_counter() - started)
        for thread in users:
            thread.join()
        total = time.perf_counter() - began
        print(f"one full forward pass ({len(batch)} sentences): {pass_s * 1000:.0f} ms")
        print(
            f"single text, idle: p50 {statistics.median(idle) * 1000:.0f} ms, "
            f"max {max(idle) * 1000:.0f} ms"
        )
        print(
            f"single text while {args.users} users send {args.words:,}-word documents "
            f"({len(loaded)} calls): p50 {statistics.median(loaded) * 1000:.0f} ms, "
            f"p95 {percentile(loaded, 0.95) * 1000:.0f} ms, max {max(loaded) * 1000:.0f} ms"
        )
        print(
            f"the {args.users} documents took {min(doc_seconds):.1f}-{max(doc_seconds):.1f} s "
            f"({args.users * len(sentences) / total:.0f} sentences/s in all)"
        )
    finally:
        service.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
