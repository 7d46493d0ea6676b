"""Upload scenarios for `make bench-abuse`: files that used to hold the whole server, or were misread.

Same shape as bench/abuse.py's SCENARIOS (function(base_url, server_pid) -> figures; extra env), each
run against a fresh `python app.py`:

- sniffer: the 40 KB CSV whose first line is `, "x` 10,000 times, sent to classify_batch and then to
  evaluate, while another user polls /healthz: how long /healthz took at worst, and the answers.
- wide header: a 60,000-column header (527 KiB) sent to classify_batch while another user sends
  single classifies: the server's CPU seconds (its file readers included), the answer, and the
  single classifies' median.
- quoted line breaks: 30 multi-paragraph reviews written by pandas (`;`-separated): how many rows
  Batch and Evaluate read, against 30.

`python -m bench.abuse_uploads [--tree OLD_CHECKOUT] [--only NAME ...]` runs them alone. Only
127.0.0.1 is used; every loop is bounded.
"""

from __future__ import annotations

import io
import json
import statistics
import sys
import threading
import time
from collections.abc import Callable

import httpx
import pandas as pd
import psutil

from bench.abuse import pad_inputs, run_scenarios, timed_classify
from sentiment_demo.evaluation.label_mapping import AUTOMATIC

SNIFFER_BOMB = (', "x' * 10_000 + "\nA fine film.\n").encode()
WIDE_HEADER = (",".join(f"col{i:05d}" for i in range(60_000)) + "\n" + "," * 59_999 + "\n").encode()
NO_MAPPING = {"headers": [], "data": [], "metadata": None}  # Evaluate then maps labels by name
REVIEW_PARAGRAPHS = [
    'A "warm", funny film.\n\nThe ending; it drags a bit.',
    "One line only, with a comma.",
    "Three\nshort\nlines.",
]


def upload(base: str, name: str, content: bytes) -> dict[str, object]:
    """Upload a file through Gradio's upload route; the FileData that an event takes."""
    answer = httpx.post(
        f"{base}/gradio_api/upload", files=[("files", (name, content))], timeout=120
    )
    answer.raise_for_status()
    return {"path": answer.json()[0], "orig_name": name, "meta": {"_type": "gradio.FileData"}}


def cpu_seconds(pid: int) -> float:
    """CPU time of the server and of its children that have exited (its file readers)."""
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def _poll(url: str, stop: threading.Event, waits: list[float], limit: int = 2_000) -> None:
    with httpx.Client(timeout=300) as http:
        for _ in range(limit):  # bounded
            if stop.is_set():
                return
            started = time.perf_counter()
            http.get(url)
            waits.append(time.perf_counter() - started)
            time.sleep(0.05)


def call(base: str, api: str, data: list[object]) -> tuple[str, list[object], float]:
    """(event, outputs, seconds) of one call; unlike gradio_call, the outputs whole and parsed."""
    started = time.perf_counter()
    posted = httpx.post(
        f"{base}/gradio_api/call/{api}", json={"data": pad_inputs(base, api, data)}, timeout=300
    )
    if posted.status_code != 200:
        return "refused", [posted.text[:200]], time.perf_counter() - started
    url = f"{base}/gradio_api/call/{api}/{posted.json()['event_id']}"
    stream = httpx.get(url, timeout=600).text
    event, outputs = "none", []
    for line in stream.splitlines():  # heartbeats may come first; the last event is the answer
        if line.startswith("event: "):
            event = line[7:].strip()
        elif line.startswith("data: ") and event in {"complete", "error"}:
            outputs = json.loads(line[6:]) if event == "complete" else [line[6:]]
    return event, outputs or [None], time.perf_counter() - started


def summary(api: str, event: str, outputs: list[object]) -> str:
    """The summary of a Batch (its last output) or Evaluate (its first) answer, or the error."""
    text = outputs[-1] if api == "classify_batch" else outputs[0]
    return f"{event}: {str(text)[:140]}"


def sniffer(base: str, pid: int) -> dict[str, object]:
    waits: list[float] = []
    stop = threading.Event()
    poller = threading.Thread(target=_poll, args=(f"{base}/healthz", stop, waits))
    poller.start()
    time.sleep(0.5)
    answers = {}
    for api, data in (
        ("classify_batch", ["", upload(base, "bomb.csv", SNIFFER_BOMB), None, []]),
        ("evaluate", [upload(base, "bomb.csv", SNIFFER_BOMB), None, None, AUTOMATIC, NO_MAPPING]),
    ):
        event, outputs, seconds = call(base, api, data)
        answers[api] = f"{seconds:.2f} s, {summary(api, event, outputs)}"
    time.sleep(0.5)
    stop.set()
    poller.join(timeout=300)
    return {
        "healthz worst s": round(max(waits), 2),
        "healthz median s": round(statistics.median(waits), 3),
        **answers,
    }


def wide_header(base: str, pid: int) -> dict[str, object]:
    cpu = cpu_seconds(pid)
    waits: list[float] = []
    done = threading.Event()

    def singles() -> None:
        for _ in range(200):  # bounded
            if done.is_set():
                return
            waits.append(timed_classify(base))
            time.sleep(0.2)

    single_user = threading.Thread(target=singles)
    single_user.start()
    data = ["", upload(base, "wide.csv", WIDE_HEADER), None, []]
    event, outputs, seconds = call(base, "classify_batch", data)
    done.set()
    single_user.join(timeout=300)
    return {
        "answer s": round(seconds, 2),
        "server CPU s": round(cpu_seconds(pid) - cpu, 2),
        "single classify s (median)": round(statistics.median(waits), 3) if waits else None,
        "answer": summary("classify_batch", event, outputs),
    }


def quoted_line_breaks(base: str, pid: int) -> dict[str, object]:
    reviews = [f"Review {i}. {REVIEW_PARAGRAPHS[i % 3]}" for i in range(30)]
    labels = ["positive" if i % 2 else "negative" for i in range(30)]
    buffer = io.StringIO()
    pd.DataFrame({"review": reviews, "label": labels}).to_csv(buffer, sep=";", index=False)
    content = buffer.getvalue().encode()
    figures: dict[str, object] = {"rows in file": len(reviews)}
    event, outputs, _ = call(
        base, "classify_batch", ["", upload(base, "reviews.csv", content), "review", []]
    )
    table = outputs[0] if isinstance(outputs[0], dict) else {"data": []}
    figures["Batch rows read"] = len(table["data"])
    text_at = table.get("headers", []).index("text") if "text" in table.get("headers", []) else 1
    figures["Batch rows read right"] = sum(
        row[text_at] == text for row, text in zip(table["data"], reviews, strict=False)
    )
    figures["Batch"] = summary("classify_batch", event, outputs)
    data = [upload(base, "reviews.csv", content), "review", "label", AUTOMATIC, NO_MAPPING]
    event, outputs, _ = call(base, "evaluate", data)
    figures["Evaluate"] = summary("evaluate", event, outputs)
    return figures


SCENARIOS: dict[str, tuple[Callable[[str, int], dict[str, object]], dict[str, str]]] = {
    "sniffer": (sniffer, {}),
    "wide header": (wide_header, {}),
    "quoted line breaks": (quoted_line_breaks, {}),
}


def main(argv: list[str] | None = None) -> int:
    return run_scenarios(SCENARIOS, argv)


if __name__ == "__main__":
    sys.exit(main())
