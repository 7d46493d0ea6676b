"""Abuse scenarios for issue 24's severe item 8: bulk work of long texts against single texts.

Same shape as `SCENARIOS` in bench/abuse.py (a function of the server's URL and pid returning its
figures, and the extra environment the server starts with), so `make bench-abuse` can run them too:

- long bulk: three Evaluate jobs of 515 texts of 2,000 characters each, while single /classify calls
  are timed (p50 and max): what a visitor of the Analyse tab waits while others evaluate long texts.
- vader emoji: a Batch job of 40 texts of 2,000 emoji with VADER ticked, while Compare calls are timed
  (the app serves the embedded model and `vader`; the model list is this scenario's extra env).

`python -m bench.abuse_outcomes [--tree DIR]` runs them as bench/abuse.py runs its own. Only
127.0.0.1 is used; every loop is bounded.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from collections.abc import Callable

import httpx

from bench.abuse import gradio_call, run_scenarios, timed_classify
from bench.texts import review_texts
from sentiment_demo.config import DEFAULT_MODEL
from sentiment_demo.evaluation.label_mapping import AUTOMATIC

LONG_CHARS = 2000
BULK_JOBS = 3
BULK_ROWS = 515
SINGLE_CALLS = 20  # bounded: at most this many timed singles while the jobs run
EMOJI_TEXTS = 40
LABELS = ("negative", "positive")


def long_texts(count: int, chars: int = LONG_CHARS) -> list[str]:
    """Review snippets joined into texts of exactly `chars` characters (real words, ≈ 450 tokens)."""
    snippets = review_texts(count * 25)
    texts, at = [], 0
    for _ in range(count):
        text = ""
        while len(text) < chars:
            text += snippets[at % len(snippets)].replace("\n", " ") + " "
            at += 1
        texts.append(text[:chars].strip())
    return texts


def upload(base: str, name: str, content: bytes) -> dict[str, object]:
    """A file uploaded to Gradio, as the FileData an event takes."""
    answer = httpx.post(
        f"{base}/gradio_api/upload", files=[("files", (name, content, "text/csv"))], timeout=120
    )
    answer.raise_for_status()
    return {"path": answer.json()[0], "meta": {"_type": "gradio.FileData"}}


def _labelled_csv(texts: list[str]) -> bytes:
    rows = ["text,label"]
    for i, text in enumerate(texts):
        quoted = text.replace('"', '""')
        rows.append(f'"{quoted}",{LABELS[i % 2]}')
    return ("\n".join(rows) + "\n").encode()


def _timed(call: Callable[[], tuple[str, str]]) -> tuple[float, str]:
    started = time.perf_counter()
    event, data = call()
    return time.perf_counter() - started, event if event == "complete" else f"{event}: {data}"


def _while_running(
    jobs: list[Callable[[], tuple[str, str]]], probe: Callable[[], tuple[str, str]]
) -> dict[str, object]:
    """Start the jobs, time `probe` calls until they end (at most SINGLE_CALLS), then wait for them."""
    answers: list[str] = []

    def run(job: Callable[[], tuple[str, str]]) -> None:
        event, data = job()
        answers.append(event if event == "complete" else f"{event}: {data[:80]}")

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(3)  # the jobs are read and queued
    waits, failures = [], []
    for _ in range(SINGLE_CALLS):
        if not any(thread.is_alive() for thread in threads):
            break
        wait, event = _timed(probe)
        waits.append(wait)
        if event != "complete":
            failures.append(event)
        time.sleep(0.3)
    for thread in threads:
        thread.join(timeout=900)
    return {
        "probe p50 s": round(statistics.median(waits), 2) if waits else None,
        "probe max s": round(max(waits), 2) if waits else None,
        "probes": len(waits),
        "probe failures": failures[:3],
        "jobs": answers,
        "jobs s": round(time.perf_counter() - started, 1),
    }


def long_bulk(base: str, pid: int) -> dict[str, object]:
    idle = statistics.median(timed_classify(base) for _ in range(5))
    files = [
        upload(base, f"long-{j}.csv", _labelled_csv(long_texts(BULK_ROWS)))
        for j in range(BULK_JOBS)
    ]
    names = [str(name) for name in _model_names(base)]
    mapping = {
        "headers": ["label in file", "rows", *names],
        "data": [[label, BULK_ROWS // 2, *[label] * len(names)] for label in LABELS],
    }
    figures = _while_running(
        [
            lambda f=f: gradio_call(base, "evaluate", [f, "text", "label", AUTOMATIC, mapping])  # type: ignore[misc]
            for f in files
        ],
        lambda: gradio_call(base, "classify", ["A fine, warm film."], timeout=300),
    )
    return {"classify idle p50 s": round(idle, 2), **figures}


def vader_emoji(base: str, pid: int) -> dict[str, object]:
    emoji = "😹" * LONG_CHARS  # six words each once VADER spells them out; "cat", "joy" are scored
    names = _model_names(base)

    def compare() -> tuple[str, str]:
        return gradio_call(base, "compare", ["A fine, warm film."], timeout=300)

    idle = statistics.median(_timed(compare)[0] for _ in range(5))
    single_started = time.perf_counter()
    one = gradio_call(base, "classify_batch", [emoji, None, None, ["vader"]])
    one_vader = time.perf_counter() - single_started
    figures = _while_running(
        [
            lambda: gradio_call(
                base,
                "classify_batch",
                ["\n".join([emoji] * EMOJI_TEXTS), None, None, ["vader"]],
            )
        ],
        compare,
    )
    return {
        "models": names,
        "one emoji text through vader s": round(one_vader, 2),
        "one text answer": one[0],
        "compare idle p50 s": round(idle, 2),
        **figures,
    }


def _model_names(base: str) -> list[object]:
    info = httpx.get(f"{base}/gradio_api/info", timeout=30).json()
    for parameter in info["named_endpoints"]["/classify_batch"]["parameters"]:
        if parameter["parameter_name"] == "model_names":
            return list(parameter.get("type", {}).get("items", {}).get("enum", []))
    return []


SCENARIOS: dict[str, tuple[Callable[[str, int], dict[str, object]], dict[str, str]]] = {
    "long bulk": (long_bulk, {}),
    "vader emoji": (vader_emoji, {"SENTIMENT_MODEL": f"{DEFAULT_MODEL},vader"}),
}


def main(argv: list[str] | None = None) -> int:
    return run_scenarios(SCENARIOS, argv)


if __name__ == "__main__":
    sys.exit(main())
