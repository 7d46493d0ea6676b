"""`make bench-abuse`: what one hostile or careless client costs everyone else, against `python app.py`.

Each scenario starts a fresh server (the embedded model, 2 threads) and measures what a well-behaved
user sees while it runs, or what the server spent:

- abandoned: 20 /predict calls of 100 texts whose clients leave at once, then one classify: the tokens
  the model still read, and how long that classify waited.
- explain: one explanation of a 5 MB text: its answer time and the server's memory growth.
- body: eight 50 MB /predict bodies at once: the answers and the server's memory growth.
- starvation: six users looping 1,000-text Batch jobs: a single classify's latency (median of 5).
- api flood: 64 /predict clients against 8 browser users, with --queue-texts 4 (the issue used
  --queue-size 4): the browser users' requests served and refused.

`--tree DIR` runs another checkout's app.py (e.g. a worktree of an older commit) with the same load,
so before and after can be compared in one run. Only 127.0.0.1 is used; every loop is bounded.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.load import input_defaults, resident_mb
from bench.run import LOOPBACK_USERS, REPO_ROOT, free_port, server
from sentiment_demo.config import DEFAULT_MODEL

_DEFAULTS: dict[tuple[str, str], list[object]] = {}


def pad_inputs(base: str, api: str, data: list[object]) -> list[object]:
    """`data` followed by the defaults of the endpoint's later inputs, as /gradio_api/info states them.

    Raw HTTP calls must send every input; older and newer checkouts differ in how many an endpoint
    has, so a scenario sends the ones it means and this fills in the rest.
    """
    if (base, api) not in _DEFAULTS:
        _DEFAULTS[base, api] = input_defaults(base, api)
    return [*data, *_DEFAULTS[base, api][len(data) :]]


def gradio_call(base: str, api: str, data: list[object], timeout: float = 300) -> tuple[str, str]:
    """(event, data line) of one call through Gradio's HTTP API (later inputs at their defaults)."""
    data = pad_inputs(base, api, data)
    started = httpx.post(f"{base}/gradio_api/call/{api}", json={"data": data}, timeout=timeout)
    if started.status_code != 200:
        return "refused", started.text[:120]
    event_id = started.json()["event_id"]
    stream = httpx.get(f"{base}/gradio_api/call/{api}/{event_id}", timeout=timeout).text
    event, result = "none", ""
    for line in stream.splitlines():  # heartbeats may come first; the last event is the answer
        if line.startswith("event: "):
            event = line[7:].strip()
        elif line.startswith("data: ") and event in {"complete", "error"}:
            result = line[6:]
    return event, result[:160]


def timed_classify(base: str) -> float:
    started = time.perf_counter()
    event, data = gradio_call(base, "classify", ["A fine, warm film."])
    if event != "complete":
        raise RuntimeError(f"classify failed: {event} {data}")
    return time.perf_counter() - started


def tokens_read(base: str) -> float:
    for line in httpx.get(f"{base}/metrics", timeout=30).text.splitlines():
        if line.startswith("sentiment_tokens_processed_total"):
            return float(line.split()[-1])
    return 0.0


def abandoned(base: str, pid: int) -> dict[str, object]:
    port = int(base.rsplit(":", 1)[1])
    before = tokens_read(base)
    body = json.dumps(
        {"inputs": ["A long and winding review of a film that " * 20] * 100, "truncate": True}
    ).encode()
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(
                b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
    time.sleep(0.2)
    wait = timed_classify(base)
    time.sleep(2)
    return {
        "tokens read for gone clients": tokens_read(base) - before,
        "classify s": round(wait, 2),
    }


def explain(base: str, pid: int) -> dict[str, object]:
    rss = resident_mb(pid)
    started = time.perf_counter()
    event, data = gradio_call(base, "explain", ["good " * 1_000_000])
    return {
        "answer s": round(time.perf_counter() - started, 2),
        "rss growth MiB": round(resident_mb(pid) - rss),
        "answer": f"{event}: {data[:90]}",
    }


def body(base: str, pid: int) -> dict[str, object]:
    rss = resident_mb(pid)
    payload = b'{"inputs": "' + b"x" * (50 * 2**20) + b'"}'

    def post(_: int) -> int:
        try:
            return httpx.post(
                f"{base}/predict",
                content=payload,
                headers={"content-type": "application/json"},
                timeout=120,
            ).status_code
        except httpx.HTTPError:
            return -1  # the server closed the connection while the body was still being sent

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(post, range(8)))
    time.sleep(1)
    return {"statuses": statuses, "rss growth MiB": round(resident_mb(pid) - rss)}


def starvation(base: str, pid: int) -> dict[str, object]:
    stop = threading.Event()
    lines = "\n".join(f"A quiet and lovely film, number {i}." for i in range(1000))

    def loop_jobs() -> None:
        for _ in range(20):  # bounded
            if stop.is_set():
                return
            gradio_call(base, "classify_batch", [lines, None, None])

    users = [threading.Thread(target=loop_jobs) for _ in range(6)]
    for user in users:
        user.start()
    time.sleep(3)
    waits = []
    for _ in range(5):
        waits.append(timed_classify(base))
        time.sleep(0.5)
    stop.set()
    for user in users:
        user.join(timeout=600)
    return {"single classify s (median of 5)": round(statistics.median(waits), 2), "all": waits}


def api_flood(base: str, pid: int) -> dict[str, object]:
    stop = threading.Event()
    api: list[int] = []
    browser: list[str] = []

    def flood() -> None:
        with httpx.Client(timeout=60) as http:
            for _ in range(300):  # bounded
                if stop.is_set():
                    return
                api.append(http.post(f"{base}/predict", json={"inputs": "A film."}).status_code)

    def browse() -> None:
        for _ in range(10):
            browser.append(gradio_call(base, "classify", ["A fine film."], timeout=60)[0])

    flooders = [threading.Thread(target=flood) for _ in range(64)]
    browsers = [threading.Thread(target=browse) for _ in range(8)]
    for thread in flooders:
        thread.start()
    time.sleep(1)
    for thread in browsers:
        thread.start()
    for thread in browsers:
        thread.join(timeout=600)
    stop.set()
    for thread in flooders:
        thread.join(timeout=600)
    return {
        "browser served": browser.count("complete"),
        "browser refused or failed": len(browser) - browser.count("complete"),
        "api 200": api.count(200),
        "api 429": api.count(429),
    }


SCENARIOS: dict[str, tuple[Callable[[str, int], dict[str, object]], dict[str, str]]] = {
    "abandoned": (abandoned, {}),
    "explain": (explain, {}),
    "body": (body, {}),
    "starvation": (starvation, LOOPBACK_USERS),
    "api flood": (
        api_flood,
        {"SENTIMENT_QUEUE_TEXTS": "4", "SENTIMENT_QUEUE_SIZE": "4", **LOOPBACK_USERS},
    ),
}


Scenarios = dict[str, tuple[Callable[[str, int], dict[str, object]], dict[str, str]]]


def round3_scenarios() -> Scenarios:
    """Issue 24's scenarios, kept beside their fixes (imported here, so those modules can use ours)."""
    from bench import abuse_outcomes, abuse_uploads, abuse_web

    return {**abuse_uploads.SCENARIOS, **abuse_web.SCENARIOS, **abuse_outcomes.SCENARIOS}


def run_scenarios(scenarios: Scenarios, argv: list[str] | None = None) -> int:
    """Run each scenario against a fresh `python app.py` (and, with --before, an older checkout too)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tree", type=Path, default=REPO_ROOT, help="checkout whose app.py runs")
    parser.add_argument(
        "--before", type=Path, help="also run an older checkout (e.g. a worktree of main~N) first"
    )
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    parser.add_argument("--only", nargs="*", choices=sorted(scenarios), default=sorted(scenarios))
    args = parser.parse_args(argv)
    trees = [("before", args.before), ("after", args.tree)] if args.before else [("", args.tree)]
    report: dict[str, dict[str, object]] = {}
    for name in args.only:
        scenario, extra_env = scenarios[name]
        for label, tree in trees:
            port = free_port()
            env = {"SENTIMENT_PORT": str(port), "SENTIMENT_MODEL": args.model, **extra_env}
            app = [sys.executable, str(tree / "app.py")]
            key = f"{name} ({label})" if label else name
            with server(f"abuse {key}", app, port, env | {"PYTHONPATH": str(tree)}) as pid:
                base = f"http://127.0.0.1:{port}"
                timed_classify(base)  # warm
                report[key] = scenario(base, pid)
            print(f"  {key:<24} {report[key]}", flush=True)
    print(json.dumps(report))
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_scenarios({**SCENARIOS, **round3_scenarios()}, argv)


if __name__ == "__main__":
    sys.exit(main())
