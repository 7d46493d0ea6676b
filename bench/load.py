"""A closed-loop load generator for Gradio's HTTP API, bounded in requests and time, loopback only.

Each simulated user owns one keep-alive httpx client and sends its next request when the last one is
answered: POST /gradio_api/call/<api> gives an event id, GET /gradio_api/call/<api>/<id> streams the result.
CPU is read from /proc so that a run disturbed by other processes says so.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import httpx

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class LoadResult:
    """What one load level measured."""

    concurrency: int
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    server_cpu_s: float
    bench_cpu_s: float
    other_cpu_s: float
    first_error: str

    @property
    def rps(self) -> float:
        """Successful requests per second."""
        return (self.requests - self.errors) / self.seconds

    def percentile(self, q: float) -> float:
        """Latency percentile in milliseconds (q in 0..100)."""
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]

    @property
    def server_cpu_ms_per_request(self) -> float:
        """Server CPU time per successful request."""
        return 1000 * self.server_cpu_s / max(1, self.requests - self.errors)

    @property
    def other_cores(self) -> float:
        """Cores used by processes outside the benchmark during the run."""
        return self.other_cpu_s / self.seconds


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU time spent busy on all cores since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / CLOCK_TICKS


def resident_mb(pid: int) -> float:
    """Resident set size of a process in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _check_loopback(base_url: str) -> None:
    host = urlparse(base_url).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        raise ValueError(f"the load generator only targets loopback addresses, not {host}")


async def _call(client: httpx.AsyncClient, api: str, payload: list[object]) -> str | None:
    """One Gradio API call (or one POST /predict when api is "/predict"); None on success."""
    if api == "/predict":
        response = await client.post("/predict", json={"inputs": payload[0], "truncate": True})
        return (
            None
            if response.status_code == 200
            else f"{response.status_code}: {response.text[:200]}"
        )
    response = await client.post(f"/gradio_api/call/{api}", json={"data": payload})
    if response.status_code != 200:
        return f"POST {response.status_code}: {response.text[:200]}"
    event_id = response.json()["event_id"]
    event = ""
    async with client.stream("GET", f"/gradio_api/call/{api}/{event_id}") as stream:
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                event = line[7:].strip()
            elif line.startswith("data: ") and event in {"complete", "error"}:
                return None if event == "complete" else f"error event: {line[6:200]}"
    return "stream ended without a result"


async def _run(
    base_url: str,
    api: str,
    make_payload: Callable[[int], list[object]],
    concurrency: int,
    max_requests: int,
    max_seconds: float,
) -> tuple[int, int, float, list[float], str]:
    issued = 0
    errors = 0
    first_error = ""
    latencies: list[float] = []
    deadline = time.perf_counter() + max_seconds

    async def user() -> None:
        nonlocal issued, errors, first_error
        limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
        async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:
            while issued < max_requests and time.perf_counter() < deadline:
                index = issued
                issued += 1
                started = time.perf_counter()
                try:
                    error = await _call(client, api, make_payload(index))
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {exc}"
                if error:
                    errors += 1
                    first_error = first_error or error
                else:
                    latencies.append(1000 * (time.perf_counter() - started))

    started = time.perf_counter()
    await asyncio.gather(*(user() for _ in range(concurrency)))
    return issued, errors, time.perf_counter() - started, latencies, first_error


def run_load(
    base_url: str,
    api: str,
    make_payload: Callable[[int], list[object]],
    concurrency: int,
    server_pid: int,
    max_requests: int,
    max_seconds: float,
) -> LoadResult:
    """Drive `api` with `concurrency` closed-loop users; measure throughput, latency and CPU."""
    _check_loopback(base_url)
    server_before = process_cpu_seconds(server_pid)
    bench_before = process_cpu_seconds(os.getpid())
    busy_before = machine_busy_seconds()
    issued, errors, seconds, latencies, first_error = asyncio.run(
        _run(base_url, api, make_payload, concurrency, max_requests, max_seconds)
    )
    server_cpu = process_cpu_seconds(server_pid) - server_before
    bench_cpu = process_cpu_seconds(os.getpid()) - bench_before
    busy = machine_busy_seconds() - busy_before
    return LoadResult(
        concurrency,
        issued,
        errors,
        seconds,
        latencies,
        server_cpu,
        bench_cpu,
        max(0.0, busy - server_cpu - bench_cpu),
        first_error,
    )


def summarize(result: LoadResult) -> dict[str, float | int | str]:
    """The figures of one load level, for tables and JSON."""
    return {
        "C": result.concurrency,
        "req/s": round(result.rps, 1),
        "p50 ms": round(result.percentile(50), 1),
        "p95 ms": round(result.percentile(95), 1),
        "p99 ms": round(result.percentile(99), 1),
        "errors": result.errors,
        "server CPU ms/req": round(result.server_cpu_ms_per_request, 2),
        "other cores": round(result.other_cores, 2),
        "median ms": round(statistics.median(result.latencies_ms), 1) if result.latencies_ms else 0,
        "first error": result.first_error[:80],
    }


if __name__ == "__main__":
    print(json.dumps({"clock_ticks": CLOCK_TICKS, "busy_s": machine_busy_seconds()}))
