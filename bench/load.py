"""A closed-loop load generator for Gradio's HTTP API, bounded in requests and time, loopback only.

Each simulated user owns one keep-alive connection and sends its next request when the last one is
answered: POST /gradio_api/call/<api> gives an event id, GET /gradio_api/call/<api>/<id> streams the result.
CPU is read from /proc so that a run disturbed by other processes says so.
"""

from __future__ import annotations

import asyncio
import contextlib
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
    def bench_cpu_ms_per_request(self) -> float:
        """The load generator's own CPU time per successful request."""
        return 1000 * self.bench_cpu_s / max(1, self.requests - self.errors)

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


class Connection:
    """One keep-alive HTTP/1.1 connection: just enough of the protocol for JSON calls and SSE.

    httpx spent 3.5 ms of CPU per Gradio call here; on a 2-core machine the load generator shares the
    cores with the server it measures, so it has to be cheap. This one reads Content-Length and
    chunked bodies, and reconnects when the server closes the connection.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, payload: object = None) -> tuple[int, bytes]:
        """Send one request and read the whole response: (status, body)."""
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        body = b"" if payload is None else json.dumps(payload).encode()
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        if payload is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        try:
            status = int((await self.reader.readuntil(b"\r\n")).split()[1])
            headers = {}
            while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip().lower()
            if "content-length" in headers:
                content = await self.reader.readexactly(int(headers["content-length"]))
            elif headers.get("transfer-encoding") == "chunked":
                content = await self._chunked()
            else:
                content = await self.reader.read()
                headers["connection"] = "close"
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            await self.close()
            raise
        if headers.get("connection") == "close":
            await self.close()
        return status, content

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts = []
        while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)
        while await self.reader.readuntil(b"\r\n") != b"\r\n":  # trailers, if any
            pass
        return b"".join(parts)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def _call(connection: Connection, api: str, payload: list[object]) -> str | None:
    """One Gradio API call (or one POST /predict when api is "/predict"); None on success."""
    if api == "/predict":
        status, body = await connection.request(
            "POST", "/predict", {"inputs": payload[0], "truncate": True}
        )
        return None if status == 200 else f"{status}: {body[:200].decode(errors='replace')}"
    status, body = await connection.request("POST", f"/gradio_api/call/{api}", {"data": payload})
    if status != 200:
        return f"POST {status}: {body[:200].decode(errors='replace')}"
    event_id = json.loads(body)["event_id"]
    status, stream = await connection.request("GET", f"/gradio_api/call/{api}/{event_id}")
    event = ""
    for line in stream.decode().splitlines():
        if line.startswith("event: "):
            event = line[7:].strip()
        elif line.startswith("data: ") and event in {"complete", "error"}:
            return None if event == "complete" else f"error event: {line[6:200]}"
    return f"stream ended without a result (HTTP {status})"


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
    address = urlparse(base_url)

    async def user() -> None:
        nonlocal issued, errors, first_error
        connection = Connection(address.hostname or "127.0.0.1", address.port or 80)
        try:
            while issued < max_requests and time.perf_counter() < deadline:
                index = issued
                issued += 1
                started = time.perf_counter()
                try:
                    error = await _call(connection, api, make_payload(index))
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
                    error = f"{type(exc).__name__}: {exc}"
                if error:
                    errors += 1
                    first_error = first_error or error
                else:
                    latencies.append(1000 * (time.perf_counter() - started))
        finally:
            await connection.close()

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
    """Drive `api` with `concurrency` closed-loop users; measure throughput, latency and CPU.

    A Gradio endpoint's later inputs are sent at their defaults, so one payload serves checkouts
    whose endpoints take more inputs than it names (raw HTTP calls must send every input).
    """
    _check_loopback(base_url)
    if not api.startswith("/"):
        make_payload = _padded(base_url, api, make_payload)
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


def input_defaults(base_url: str, api: str) -> list[object]:
    """Each input's default of a Gradio endpoint (None where it has none), from /gradio_api/info."""
    info = httpx.get(f"{base_url}/gradio_api/info", timeout=30).json()
    parameters = info["named_endpoints"][f"/{api.lstrip('/')}"]["parameters"]
    return [
        p.get("parameter_default") if p.get("parameter_has_default") else None for p in parameters
    ]


def _padded(
    base_url: str, api: str, make_payload: Callable[[int], list[object]]
) -> Callable[[int], list[object]]:
    """`make_payload` followed by the defaults of the endpoint's later inputs."""
    rest = input_defaults(base_url, api)[len(make_payload(0)) :]
    return lambda index: [*make_payload(index), *rest]


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
        "bench CPU ms/req": round(result.bench_cpu_ms_per_request, 2),
        "other cores": round(result.other_cores, 2),
        "median ms": round(statistics.median(result.latencies_ms), 1) if result.latencies_ms else 0,
        "first error": result.first_error[:80],
    }


if __name__ == "__main__":
    print(json.dumps({"clock_ticks": CLOCK_TICKS, "busy_s": machine_busy_seconds()}))
