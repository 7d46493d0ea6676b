"""`make bench`: the app against the seed tutorial app, a no-model app and the in-process ceiling.

Everything is measured in one run on the same model and texts, so the ratios hold even on a noisy machine;
each load level reports the CPU used by other processes, and a level where they used more than a fifth of
a core is marked as contaminated. `--quick` finishes in about a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import httpx

from bench.ceiling import CeilingResult, measure_ceiling
from bench.load import LoadResult, resident_mb, run_load, summarize
from bench.texts import review_texts
from sentiment_demo.config import DEFAULT_MODEL

REPO_ROOT = Path(__file__).resolve().parent.parent
CONTAMINATED_CORES = 0.2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# The load generator's simulated users all come from 127.0.0.1: the per-address limits would count
# them as one client and refuse most of them, which is not what a load benchmark measures.
LOOPBACK_USERS = {
    "SENTIMENT_MAX_EVENTS_PER_CLIENT": "1000000",
    "SENTIMENT_MAX_SESSIONS_PER_CLIENT": "1000000",
}


@contextmanager
def server(name: str, command: list[str], port: int, env: dict[str, str]) -> Iterator[int]:
    """Start one server, wait for its API, yield its pid, stop it; show its log if it never answers."""
    log_path = REPO_ROOT / ".cache" / f"bench-{name.replace(' ', '-')}.log"
    log_path.parent.mkdir(exist_ok=True)
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=os.environ | {"PYTHONPATH": str(REPO_ROOT)} | env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start:\n{log_path.read_text()[-3000:]}")
            try:
                if (
                    httpx.get(f"http://127.0.0.1:{port}/gradio_api/info", timeout=2).status_code
                    == 200
                ):
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        yield process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def one_text(texts: list[str]) -> Callable[[int], list[object]]:
    return lambda i: [texts[i % len(texts)]]


def _call_texts(texts: list[str], per_call: int, call: int) -> list[str]:
    """The `per_call` texts of call number `call`, cycling through `texts`."""
    return [texts[(call * per_call + j) % len(texts)] for j in range(per_call)]


def many_texts(texts: list[str], per_call: int) -> Callable[[int], list[object]]:
    """classify_batch's inputs: `per_call` texts pasted one per line, no upload, no column."""
    return lambda i: ["\n".join(_call_texts(texts, per_call, i)), None, None]


def text_list(texts: list[str], per_call: int) -> Callable[[int], list[object]]:
    """/predict's input: a list of `per_call` texts."""
    return lambda i: [_call_texts(texts, per_call, i)]


def levels_for(
    name: str,
    command: list[str],
    port: int,
    env: dict[str, str],
    texts: list[str],
    levels: tuple[int, ...],
    max_requests: int,
    max_seconds: float,
    api: str = "classify",
) -> list[LoadResult]:
    results = []
    with server(name, command, port, env) as pid:
        base = f"http://127.0.0.1:{port}"
        run_load(base, api, one_text(texts), 4, pid, 40, 20)  # warm the server and the queue
        for concurrency in levels:
            result = run_load(
                base, api, one_text(texts), concurrency, pid, max_requests, max_seconds
            )
            results.append(result)
            _print_level(name, result)
    return results


def _print_level(name: str, result: LoadResult) -> None:
    row = summarize(result)
    flag = "  CONTAMINATED" if result.other_cores > CONTAMINATED_CORES else ""
    print(
        f"  {name:<22} C={row['C']:<3} {row['req/s']:>7} req/s  p50 {row['p50 ms']:>7} ms  "
        f"p95 {row['p95 ms']:>7} ms  p99 {row['p99 ms']:>7} ms  errors {row['errors']:<3} "
        f"server {row['server CPU ms/req']:>6} ms CPU/req  bench {row['bench CPU ms/req']:>5}  "
        f"others {row['other cores']:.2f} cores"
        f"{flag} {row['first error']}",
        flush=True,
    )


def many_per_call_throughput(
    name: str,
    api: str,
    make_payload: Callable[[int], Callable[[int], list[object]]],
    command: list[str],
    port: int,
    env: dict[str, str],
    per_call: int,
    calls: int,
) -> float:
    """Sentences/s through `api`, `per_call` texts per request, one client.

    `make_payload(n)` gives the payload maker for n texts per call.
    """
    with server(name, command, port, env) as pid:
        base = f"http://127.0.0.1:{port}"
        run_load(base, api, make_payload(8), 1, pid, 2, 30)
        result = run_load(base, api, make_payload(per_call), 1, pid, calls, 120)
        rate = (result.requests - result.errors) * per_call / result.seconds
        print(
            f"  {name:<22} {per_call} texts per call: {rate:,.0f} sentences/s "
            f"(errors {result.errors}, others {result.other_cores:.2f} cores) {result.first_error}"
        )
        return rate


def soak(command: list[str], port: int, env: dict[str, str], texts: list[str], total: int) -> dict:
    """Resident memory after warm-up and after `total` requests at C = 32."""
    with server("app soak", command, port, env) as pid:
        base = f"http://127.0.0.1:{port}"
        run_load(base, "classify", one_text(texts), 32, pid, total // 10, 600)
        warm_mb = resident_mb(pid)
        result = run_load(base, "classify", one_text(texts), 32, pid, total, 1800)
        end_mb = resident_mb(pid)
    growth = (end_mb - warm_mb) / warm_mb
    print(
        f"  soak: {result.requests} requests, {result.errors} errors, RSS {warm_mb:.0f} MiB after "
        f"warm-up -> {end_mb:.0f} MiB ({100 * growth:+.1f}%)"
    )
    return {
        "requests": result.requests,
        "errors": result.errors,
        "rss_warm_mb": round(warm_mb, 1),
        "rss_end_mb": round(end_mb, 1),
        "growth": round(growth, 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="fewer levels and shorter runs (≈ 1 min)"
    )
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    parser.add_argument("--soak", type=int, default=0, help="also run N requests and check memory")
    parser.add_argument(
        "--requests", type=int, default=0, help="requests per load level (default 3000, quick 400)"
    )
    parser.add_argument("--json", type=Path, default=REPO_ROOT / ".cache" / "bench.json")
    args = parser.parse_args(argv)

    quick = args.quick
    levels = (1, 32) if quick else (1, 8, 32, 64)
    max_requests, max_seconds = (400, 5.0) if quick else (3000, 20.0)
    if args.requests:
        max_requests, max_seconds = args.requests, max_seconds * args.requests / max_requests
    texts = review_texts(512 if quick else 2000)
    print(f"model {args.model}; {len(texts)} review texts; levels C = {levels}", flush=True)

    print("in-process ceiling (tokenize + forward, length-sorted, best batch and threads):")
    ceilings: dict[str, CeilingResult] = {}
    for dtype in ("bfloat16",) if quick else ("bfloat16", "float32"):
        ceiling = measure_ceiling(
            args.model, dtype, texts, batch_sizes=(32,) if quick else (16, 32, 64)
        )
        ceilings[dtype] = ceiling
        print(
            f"  {dtype:<9} {ceiling.sentences_per_s:,.0f} sentences/s (batch {ceiling.batch_size}, "
            f"{ceiling.threads} threads); one text alone: {ceiling.single_forward_ms:.1f} ms",
            flush=True,
        )

    port = free_port()
    app_env = {"SENTIMENT_PORT": str(port), "SENTIMENT_MODEL": args.model, **LOOPBACK_USERS}
    app = [sys.executable, "app.py"]
    bf16_env = app_env | {"SENTIMENT_DTYPE": "bfloat16"}
    servers: dict[str, tuple[list[str], dict[str, str], str]] = {
        "app bfloat16": (app, bf16_env, "classify"),
        "app bfloat16 /predict": (app, bf16_env, "/predict"),
        "seed tutorial app": (
            [sys.executable, "bench/seed_app.py", args.model, str(port)],
            {},
            "classify",
        ),
        "no-model app": ([sys.executable, "bench/noop_app.py", str(port)], {}, "classify"),
    }
    print("one text per call, closed loop (classify through Gradio's queue, or JSON /predict):")
    loads = {
        name: levels_for(name, cmd, port, env, texts, levels, max_requests, max_seconds, api)
        for name, (cmd, env, api) in servers.items()
    }
    if not quick:
        print("what each choice buys: the app with one of them undone, classify at C = 32:")
        variants = _variants(app, bf16_env, app_env, port, ceilings["bfloat16"].sentences_per_s)
        for name, (cmd, env) in variants.items():
            loads[name] = levels_for(name, cmd, port, env, texts, (32,), max_requests, max_seconds)

    print("classify_batch, many texts per call:")
    per_call, calls = (250, 3) if quick else (500, 6)
    batch_rate = many_per_call_throughput(
        "app bfloat16",
        "classify_batch",
        lambda n: many_texts(texts, n),
        app,
        port,
        bf16_env,
        per_call,
        calls,
    )
    predict_rate = many_per_call_throughput(
        "app /predict",
        "/predict",
        lambda n: text_list(texts, n),
        app,
        port,
        bf16_env,
        per_call,
        calls,
    )
    soak_result = soak(app, port, bf16_env, texts, args.soak) if args.soak else None

    # The machine is shared: its speed can drift during a long run, and ratios between figures taken
    # minutes apart drift with it. Measure the ceiling again, in its best configuration, and say so.
    start = ceilings["bfloat16"]
    end = measure_ceiling(
        args.model,
        "bfloat16",
        texts,
        batch_sizes=(start.batch_size,),
        thread_counts=(start.threads,),
    )
    drift = end.sentences_per_s / start.sentences_per_s - 1
    print(
        f"ceiling again at the end: {end.sentences_per_s:,.0f} sentences/s ({100 * drift:+.0f}%)"
        + (
            "  DRIFTED: ratios between early and late figures are unreliable"
            if abs(drift) > 0.1
            else ""
        )
    )
    report = _ratios(loads, start, batch_rate, predict_rate)
    report["ceiling drift during the run"] = round(drift, 3)
    args.json.parent.mkdir(exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "ceilings": {k: asdict(v) for k, v in ceilings.items()},
                "loads": {k: [summarize(r) for r in v] for k, v in loads.items()},
                "batch_sentences_per_s": batch_rate,
                "predict_sentences_per_s": predict_rate,
                "ratios": report,
                "soak": soak_result,
            },
            indent=2,
        )
    )
    print(f"\nsaved {args.json}")
    return 0


def _variants(
    app: list[str],
    bf16_env: dict[str, str],
    app_env: dict[str, str],
    port: int,
    ceiling_rate: float,
) -> dict[str, tuple[list[str], dict[str, str]]]:
    """The app with one optimisation undone each, to measure what it buys in the same run.

    Plus a model that sleeps at the ceiling's speed and uses no CPU: what the queue's structure allows.
    """
    sleeper = [sys.executable, "bench/noop_app.py", str(port), str(1 / ceiling_rate)]
    gradio_analytics = {
        "GRADIO_ANALYTICS_MAX_EVENTS": "10000",
        "GRADIO_ANALYTICS_CACHE_FREQUENCY": "1",
    }
    return {
        "app float32": (app, app_env | {"SENTIMENT_DTYPE": "float32"}),
        "app, padded forward": (app, bf16_env | {"SENTIMENT_UNPADDED": "false"}),
        "app, Gradio analytics": (app, bf16_env | gradio_analytics),
        "app, 2 handlers": (app, bf16_env | {"SENTIMENT_HANDLER_CONCURRENCY": "2"}),
        "sleeping model": (sleeper, {}),
        "sleeping model, 2 handlers": (sleeper, {"SENTIMENT_HANDLER_CONCURRENCY": "2"}),
        "no-model, analytics": (
            [sys.executable, "bench/noop_app.py", str(port)],
            gradio_analytics,
        ),
    }


def _ratios(
    loads: dict[str, list[LoadResult]],
    ceiling: CeilingResult,
    batch_rate: float,
    predict_rate: float,
) -> dict:
    by_c = {name: {r.concurrency: r for r in results} for name, results in loads.items()}
    app, seed, noop = by_c["app bfloat16"], by_c["seed tutorial app"], by_c["no-model app"]
    c = 32
    single = ceiling.single_forward_ms
    latency_bound = 1.3 * single + 15
    report = {
        "classify C=32 / ceiling": app[c].rps / ceiling.sentences_per_s,
        "classify C=32 / seed app C=32": app[c].rps / seed[c].rps,
        "batch endpoint / ceiling": batch_rate / ceiling.sentences_per_s,
        "/predict many per call / ceiling": predict_rate / ceiling.sentences_per_s,
        "/predict C=32 / ceiling": by_c["app bfloat16 /predict"][c].rps / ceiling.sentences_per_s,
        "/predict C=1 p50 ms": by_c["app bfloat16 /predict"][1].percentile(50),
        "C=1 p50 ms": app[1].percentile(50),
        "C=1 bound ms (1.3 x forward + 15)": latency_bound,
        "no-model server CPU ms/req": noop[c].server_cpu_ms_per_request,
        "app server CPU ms/req": app[c].server_cpu_ms_per_request,
        "no-model app max req/s C=32": noop[c].rps,
    }
    if 64 in app:
        report["errors at C=64"] = app[64].errors
    for name, results in by_c.items():
        if name.startswith(("app float32", "app, ")):
            report[f"{name} / app, C=32"] = results[c].rps / app[c].rps
    for name in ("sleeping model", "sleeping model, 2 handlers"):
        if name in by_c:
            report[f"{name} (structure alone) / ceiling"] = (
                by_c[name][c].rps / ceiling.sentences_per_s
            )
    if "no-model, analytics" in by_c:
        report["no-model with analytics, server CPU ms/req"] = by_c["no-model, analytics"][
            c
        ].server_cpu_ms_per_request
    # How much of the gap to the ceiling Gradio's own cost explains. The machine's cores are shared by
    # the model (threads / ceiling core-seconds per text), Gradio's protocol (the no-model app's server
    # CPU per request) and the load generator: at best they add up to all the cores.
    cores = os.cpu_count() or 1
    per_request_s = (
        ceiling.threads / ceiling.sentences_per_s
        + noop[c].server_cpu_ms_per_request / 1000
        + app[c].bench_cpu_ms_per_request / 1000
    )
    bound = cores / per_request_s
    report["bound req/s: cores / (model + protocol + load CPU)"] = bound
    report["bound / ceiling"] = bound / ceiling.sentences_per_s
    report["share of the gap the CPU bound explains"] = (ceiling.sentences_per_s - bound) / max(
        1e-9, ceiling.sentences_per_s - app[c].rps
    )
    print("\nratios (targets: >= 0.6, >= 4, >= 0.9; C=1 p50 <= bound; no errors at C=64):")
    for key, value in report.items():
        print(f"  {key:<56} {value:,.2f}")
    return {k: round(float(v), 3) for k, v in report.items()}


if __name__ == "__main__":
    sys.exit(main())
