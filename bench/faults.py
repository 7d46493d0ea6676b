"""`make bench-faults`: a bounded soak with faults, against `python app.py` on loopback.

C = 64 closed-loop users for a minute (half through Gradio's `classify`, half through `/predict`), with
one poison text sent mid-run (a lone surrogate, which once failed every request batched with it) and
the server frozen for three seconds with SIGSTOP, then resumed with SIGCONT. It reports lost requests
(any answer but a result), queue-full answers (there should be none: 64 users are fewer than the queue
holds), whether /metrics adds up to what was sent, and resident memory and open file descriptors
before and after. Every loop is bounded in count and time; only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import httpx

from bench.load import LoadResult, resident_mb, run_load
from bench.run import LOOPBACK_USERS, REPO_ROOT, free_port, one_text, server
from bench.texts import review_texts
from sentiment_demo.config import DEFAULT_MODEL


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def counted_requests(base: str) -> dict[str, float]:
    """sentiment_requests_total by route, summed over outcomes."""
    totals: dict[str, float] = {}
    for line in httpx.get(f"{base}/metrics", timeout=30).text.splitlines():
        if line.startswith("sentiment_requests_total{"):
            route = line.split('route="', 1)[1].split('"', 1)[0]
            totals[route] = totals.get(route, 0.0) + float(line.split()[-1])
    return totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--json", type=Path, default=REPO_ROOT / ".cache" / "bench-faults.json")
    args = parser.parse_args(argv)
    texts = review_texts(512)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"SENTIMENT_PORT": str(port), "SENTIMENT_MODEL": args.model, **LOOPBACK_USERS}
    with server("app faults", [sys.executable, "app.py"], port, env) as pid:
        run_load(base, "/predict", one_text(texts), 8, pid, 200, 30)  # warm-up
        warm = {"rss_mb": resident_mb(pid), "fds": open_fds(pid)}
        counted_before = counted_requests(base)
        results: dict[str, LoadResult] = {}

        def drive(api: str) -> None:
            results[api] = run_load(
                base, api, one_text(texts), args.users // 2, pid, 10**9, args.seconds
            )

        samples: list[tuple[float, float, int]] = []
        started = time.monotonic()

        def sample() -> None:
            while any(thread.is_alive() for thread in drivers):
                samples.append((time.monotonic() - started, resident_mb(pid), open_fds(pid)))
                time.sleep(args.seconds / 12)

        drivers = [threading.Thread(target=drive, args=(api,)) for api in ("classify", "/predict")]
        for thread in drivers:
            thread.start()
        sampler = threading.Thread(target=sample)
        sampler.start()
        time.sleep(args.seconds / 4)
        poison = httpx.post(
            f"{base}/predict",
            content=json.dumps({"inputs": "good \ud800 film"}),
            headers={"content-type": "application/json"},
            timeout=60,
        )
        time.sleep(args.seconds / 4)
        os.kill(pid, signal.SIGSTOP)
        time.sleep(3)
        os.kill(pid, signal.SIGCONT)
        for thread in drivers:
            thread.join()
        sampler.join()
        time.sleep(1)
        end = {"rss_mb": resident_mb(pid), "fds": open_fds(pid)}
        counted = counted_requests(base)
    sent = {api: result.requests for api, result in results.items()}
    lost = {api: result.errors for api, result in results.items()}
    queue_full = sum(
        "queue" in r.first_error.lower() or "429" in r.first_error for r in results.values()
    )
    counted_delta = {
        route: counted.get(route, 0) - counted_before.get(route, 0) for route in ("ui", "predict")
    }
    report = {
        "users": args.users,
        "seconds": args.seconds,
        "sent": sent,
        "lost": lost,
        "first errors": {api: r.first_error for api, r in results.items() if r.first_error},
        "queue-full answers": queue_full,
        "poison answer": [poison.status_code, poison.json().get("error", "")[:80]],
        "metrics counted (ui, predict)": counted_delta,
        "metrics add up": counted_delta["ui"] == sent["classify"]
        and counted_delta["predict"] == sent["/predict"] + 1,
        "rss MiB warm -> end": [round(warm["rss_mb"]), round(end["rss_mb"])],
        "rss MiB during the run": [round(rss) for _, rss, _ in samples],
        "open fds during the run": [fds for _, _, fds in samples],
        "open fds warm -> end": [warm["fds"], end["fds"]],
        "p99 ms": {api: round(r.percentile(99)) for api, r in results.items()},
        "req/s": {api: round(r.rps, 1) for api, r in results.items()},
    }
    for name, value in report.items():
        print(f"  {name:<32} {value}")
    args.json.parent.mkdir(exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    healthy = not any(lost.values()) and report["metrics add up"] and poison.status_code == 422
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
