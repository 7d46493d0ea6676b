"""The HTTP layer's abuse scenarios (issue 24), in the shape of bench/abuse.py's SCENARIOS.

Each function takes the base URL and pid of a fresh `python app.py` and returns what a well-behaved
user saw, or what the server kept:

- queue fill: one client posts Batch jobs as fast as it can (nobody listens: Gradio runs them
  anyway) while 24 other visitors each send one classify: visitors served and refused. Clients
  are told apart by X-Forwarded-For, with the bench as the trusted proxy hop.
- empty auth: the same app.py started with --auth pointing at a blank file: whether it starts, and
  if it does, what /predict, /info, /metrics and the MCP schema answer without credentials.
- disk fill: one client uploads 100 files of 1 MiB: uploads stored and refused, MiB/s stored,
  and the size of Gradio's cache afterwards (run with --max-cache-mb 64).
- sessions: 3,000 queue/join posts, each with a new session hash: the server's memory growth (run
  with a per-client event limit of 10,000, so that every join is accepted and only sessions differ).

Only 127.0.0.1 is used; every loop is bounded in count and time. `python -m bench.abuse_web --tree
OLD_CHECKOUT` runs them against another checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

from bench.abuse import pad_inputs, run_scenarios
from bench.load import resident_mb
from bench.run import REPO_ROOT, free_port

CACHE_DIR = Path(tempfile.gettempdir()) / "sentiment-abuse-web-cache"
LINES = "\n".join(f"A quiet and lovely film, number {i}." for i in range(1000))


def _fn_index(base: str, api_name: str) -> int:
    config = httpx.get(f"{base}/config", timeout=30).json()
    return next(d["id"] for d in config["dependencies"] if d.get("api_name") == api_name)


def _call(base: str, api: str, data: list[object], address: str) -> str:
    """The final event of one Gradio API call from `address` (X-Forwarded-For, via a trusted hop)."""
    with httpx.Client(timeout=120, headers={"x-forwarded-for": address}) as http:
        started = http.post(
            f"{base}/gradio_api/call/{api}", json={"data": pad_inputs(base, api, data)}
        )
        if started.status_code != 200:
            return f"refused {started.status_code}"
        stream = http.get(f"{base}/gradio_api/call/{api}/{started.json()['event_id']}").text
    events = [line[7:].strip() for line in stream.splitlines() if line.startswith("event: ")]
    return events[-1] if events else "none"


def queue_fill(base: str, pid: int) -> dict[str, object]:
    stop = threading.Event()
    hostile: list[int] = []

    def flood() -> None:
        deadline = time.monotonic() + 40
        with httpx.Client(timeout=30, headers={"x-forwarded-for": "203.0.113.1"}) as http:
            for _ in range(400):  # bounded in count and time
                if stop.is_set() or time.monotonic() > deadline:
                    return
                answer = http.post(
                    f"{base}/gradio_api/call/classify_batch",
                    json={"data": pad_inputs(base, "classify_batch", [LINES, None, None, []])},
                )
                hostile.append(answer.status_code)
                time.sleep(0.02)

    flooder = threading.Thread(target=flood)
    flooder.start()
    time.sleep(3)
    visitors = [_call(base, "classify", ["A fine film."], f"198.51.100.{i}") for i in range(24)]
    stop.set()
    flooder.join(timeout=120)
    return {
        "visitors served": visitors.count("complete"),
        "visitors refused 503 (queue full)": visitors.count("refused 503"),
        "visitors refused or failed otherwise": len(visitors)
        - visitors.count("complete")
        - visitors.count("refused 503"),
        "hostile jobs accepted": hostile.count(200),
        "hostile jobs refused 429": hostile.count(429),
        "hostile 503 (queue full)": hostile.count(503),
    }


def _app_of(pid: int) -> list[str]:
    """The command line of the server under test (so the same checkout is started again)."""
    return Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").decode().split("\0")


def empty_auth(base: str, pid: int) -> dict[str, object]:
    command = _app_of(pid)
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        users = Path(folder) / "users.txt"
        users.write_text("\n  \n")
        env = os.environ | {
            "PYTHONPATH": str(Path(command[-1]).resolve().parent),
            "SENTIMENT_PORT": str(port),
            "SENTIMENT_MODEL": "vader",
            "SENTIMENT_AUTH": str(users),
            "SENTIMENT_MCP": "true",
        }
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 120
            while process.poll() is None and time.monotonic() < deadline:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                    break
                except httpx.HTTPError:
                    time.sleep(0.3)
            if process.poll() is not None:
                output = (process.stdout.read() if process.stdout else b"").decode()
                return {"started": False, "exit": process.returncode, "says": output.strip()[-200:]}
            url = f"http://127.0.0.1:{port}"
            time.sleep(1)
            return {
                "started": True,
                "anonymous /predict": httpx.post(
                    f"{url}/predict", json={"inputs": "good"}
                ).status_code,
                "anonymous /info": httpx.get(f"{url}/info").status_code,
                "anonymous /metrics": httpx.get(f"{url}/metrics").status_code,
                "anonymous mcp schema": httpx.get(f"{url}/gradio_api/mcp/schema").status_code,
            }
        finally:
            process.terminate()
            process.wait(timeout=30)


def _cache_mb() -> float:
    return sum(p.stat().st_size for p in CACHE_DIR.rglob("*") if p.is_file()) / 2**20


def disk_fill(base: str, pid: int) -> dict[str, object]:
    blob = b"A fine film.\n" * (2**20 // 13)
    statuses = []
    started = time.perf_counter()
    with httpx.Client(timeout=60) as http:
        for i in range(100):
            answer = http.post(f"{base}/gradio_api/upload", files={"files": (f"f{i}.txt", blob)})
            statuses.append(answer.status_code)
    elapsed = time.perf_counter() - started
    stored_mb = statuses.count(200) * len(blob) / 2**20
    time.sleep(3)  # the sweeper is woken by what was stored
    return {
        "uploads stored": statuses.count(200),
        "uploads refused 429": statuses.count(429),
        "MiB/s stored": round(stored_mb / elapsed, 1),
        "cache MiB after 3 s": round(_cache_mb(), 1),
    }


def sessions(base: str, pid: int) -> dict[str, object]:
    fn = _fn_index(base, "classify")
    rss = resident_mb(pid)
    accepted = 0
    with httpx.Client(timeout=30) as http:
        for _ in range(3000):  # bounded
            body = {
                "data": ["A fine film."],
                "fn_index": fn,
                "session_hash": uuid.uuid4().hex,
                "event_data": None,
                "trigger_id": None,
            }
            accepted += http.post(f"{base}/gradio_api/queue/join", json=body).status_code == 200
    time.sleep(2)
    return {"joins accepted": accepted, "rss growth MiB": round(resident_mb(pid) - rss)}


SCENARIOS: dict[str, tuple[Callable[[str, int], dict[str, object]], dict[str, str]]] = {
    "queue fill": (queue_fill, {"SENTIMENT_TRUSTED_PROXIES": "127.0.0.1"}),
    "empty auth": (empty_auth, {}),
    "disk fill": (
        disk_fill,
        {"GRADIO_TEMP_DIR": str(CACHE_DIR), "SENTIMENT_MAX_CACHE_MB": "64"},
    ),
    "sessions": (sessions, {"SENTIMENT_MAX_EVENTS_PER_CLIENT": "10000"}),
}


def main(argv: list[str] | None = None) -> int:
    return run_scenarios(SCENARIOS, argv)


if __name__ == "__main__":
    sys.exit(main())
