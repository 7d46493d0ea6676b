"""Per-client limits of the HTTP layer: Gradio's queue, sessions, uploads, the cache, logins, auth.

Each test sends what one hostile client sent in issue 24 and checks that it alone is refused, with a
message naming the setting, while another client is still served. Clients are told apart by
X-Forwarded-For, with the test as the trusted proxy hop (--trusted-proxies 127.0.0.1). Real sockets
only where the socket is the point (a slow upload); loops are bounded; only loopback is used.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from sentiment_demo.config import Settings, parse_settings
from sentiment_demo.files import CacheSweeper
from sentiment_demo.service import Service, build_service
from tests.conftest import REPO_ROOT, FakeClassifier, launched
from tests.test_ui import INFO

PROXY = "127.0.0.1"
LINES = "\n".join(f"good film {i}" for i in range(50))


def as_client(address: str, **kwargs: object) -> httpx.Client:
    return httpx.Client(headers={"x-forwarded-for": address}, timeout=30, **kwargs)  # type: ignore[arg-type]


def post_job(http: httpx.Client, url: str, api: str, data: list[object]) -> httpx.Response:
    return http.post(f"{url}/gradio_api/call/{api}", json={"data": data})


def result(http: httpx.Client, url: str, api: str, event_id: str) -> str:
    return http.get(f"{url}/gradio_api/call/{api}/{event_id}").text


def wait_until(condition: object, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        time.sleep(0.05)


def service(classifier: FakeClassifier | None = None, **settings: object) -> Service:
    merged: dict[str, object] = {"trusted_proxies": PROXY, **settings}
    return build_service(classifier or FakeClassifier(), INFO, Settings(**merged))  # type: ignore[arg-type]


def test_queue_one_client_posting_jobs_is_capped_and_others_are_served() -> None:
    # The pattern that filled the queue: Batch jobs posted faster than they finish (nobody needs to
    # listen: Gradio runs them anyway). With the limit, only this client's extra jobs are refused.
    slow = FakeClassifier(delay=0.3)
    with launched(service(slow, queue_size=16, max_events_per_client=3)) as url:
        hostile, visitor = as_client("203.0.113.5"), as_client("198.51.100.9")
        answers = [
            post_job(hostile, url, "classify_batch", [LINES, None, None, [], False, ""])
            for _ in range(20)
        ]
        statuses = [a.status_code for a in answers]
        assert statuses.count(200) == 3, statuses
        assert set(statuses[3:]) == {429}
        refusal = answers[-1].json()
        assert "--max-events-per-client" in refusal["detail"]
        assert "3 requests" in refusal["detail"]
        started = post_job(visitor, url, "classify", ["good film", None])
        assert started.status_code == 200, started.text
        assert "event: complete" in result(visitor, url, "classify", started.json()["event_id"])
        # Once its jobs are done, the hostile client may post again.
        for answer in answers[:3]:
            result(hostile, url, "classify_batch", answer.json()["event_id"])
        assert post_job(hostile, url, "classify", ["good", None]).status_code == 200


def test_queue_limit_counts_browser_joins_too() -> None:
    slow = FakeClassifier(delay=0.3)
    with launched(service(slow, max_events_per_client=2)) as url:
        svc_fn = next(i for i, fn in launched_fns(url).items() if fn == "classify_batch")
        hostile = as_client("203.0.113.6")
        statuses = [
            hostile.post(
                f"{url}/gradio_api/queue/join",
                json={
                    "data": [LINES, None, None, [], False, ""],
                    "fn_index": svc_fn,
                    "session_hash": "s1",
                    "event_data": None,
                    "trigger_id": None,
                },
            ).status_code
            for _ in range(5)
        ]
        assert statuses == [200, 200, 429, 429, 429]


def launched_fns(url: str) -> dict[int, str]:
    config = httpx.get(f"{url}/config", timeout=30).json()
    return {d["id"]: d.get("api_name") for d in config["dependencies"]}


def test_sessions_per_client_are_bounded() -> None:
    svc = service(max_sessions_per_client=4, max_events_per_client=100)
    with launched(svc) as url:
        fn = next(i for i, name in launched_fns(url).items() if name == "classify")
        hostile = as_client("203.0.113.7")

        def join() -> None:
            answer = hostile.post(
                f"{url}/gradio_api/queue/join",
                json={
                    "data": ["good"],
                    "fn_index": fn,
                    "session_hash": uuid.uuid4().hex,
                    "event_data": None,
                    "trigger_id": None,
                },
            )
            assert answer.status_code == 200, answer.text

        for _ in range(30):
            join()
        wait_until(lambda: not svc.demo._queue.event_ids_to_events)
        join()  # sessions whose events were still running are dropped at the client's next request
        wait_until(lambda: not svc.demo._queue.event_ids_to_events)
        # The events ran, each in its own session; only the newest four sessions keep state.
        assert len(svc.demo.state_holder.session_data) <= 4


def test_a_file_payload_outside_the_uploads_is_refused_without_naming_server_paths() -> None:
    with launched(service()) as url:
        http = as_client("203.0.113.8")
        for path in ["README.md", "/etc/passwd", "../../etc/passwd"]:
            payload = {"path": path, "meta": {"_type": "gradio.FileData"}}
            answer = post_job(http, url, "classify_batch", ["", payload, None, [], False, ""])
            assert answer.status_code == 400, answer.text
            assert os.getcwd() not in answer.text
            assert "not uploaded to this server" in answer.json()["detail"]
        uploaded = http.post(
            f"{url}/gradio_api/upload", files={"files": ("t.txt", b"good film\nbad film\n")}
        )
        stored = uploaded.json()[0]
        payload = {"path": stored, "meta": {"_type": "gradio.FileData"}}
        answer = post_job(http, url, "classify_batch", ["", payload, None, [], False, ""])
        assert answer.status_code == 200
        assert "event: complete" in result(http, url, "classify_batch", answer.json()["event_id"])


def test_uploads_per_client_are_rate_limited() -> None:
    with launched(service(upload_kb_per_minute=100)) as url:
        hostile, visitor = as_client("203.0.113.9"), as_client("198.51.100.10")
        blob = b"good film\n" * 4000  # 40,000 bytes
        statuses = []
        for _ in range(4):
            answer = hostile.post(f"{url}/gradio_api/upload", files={"files": ("t.txt", blob)})
            statuses.append(answer.status_code)
        assert statuses[:2] == [200, 200]
        assert statuses[2:] == [429, 429]
        assert "--upload-kb-per-minute" in answer.json()["detail"]
        ok = visitor.post(f"{url}/gradio_api/upload", files={"files": ("t.txt", blob)})
        assert ok.status_code == 200


def test_a_slow_upload_body_is_cut_off() -> None:
    with launched(service(upload_timeout=2)) as url:
        address = urlparse(url)
        with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
            sock.sendall(
                b"POST /gradio_api/upload HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 200\r\n\r\n"
            )
            started = time.monotonic()
            # A byte every 0.4 s, never idle long, until shortly before the 2 s deadline. No byte
            # is sent near it: one reaching the server after it closed the connection makes its
            # kernel reset the connection, and a reset can discard the answer before it is read.
            for byte in b"--b\r\n":
                sock.sendall(bytes([byte]))
                time.sleep(0.4)
            answer = b""
            sock.settimeout(5)
            while chunk := sock.recv(4096):  # the server closes the connection after its answer
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
            assert b"--upload-timeout" in answer
            assert 1.9 < time.monotonic() - started < 8


def test_cache_is_kept_under_its_total_size_oldest_first(tmp_path: Path) -> None:
    for i in range(6):
        folder = tmp_path / f"upload{i}"
        folder.mkdir()
        (folder / "f.bin").write_bytes(b"x" * 1000)
        time.sleep(0.02)  # distinct change times: the oldest go first
    sweeper = CacheSweeper(tmp_path, lifetime=3600, max_bytes=2500)
    try:
        assert sweeper.sweep() == 4
        left = sorted(p.parent.name for p in tmp_path.rglob("f.bin"))
        assert left == ["upload4", "upload5"]
        # Storing a tenth of the cap wakes the sweeper at once, not at its next round.
        for i in range(6, 9):
            (tmp_path / f"upload{i}").mkdir()
            (tmp_path / f"upload{i}" / "f.bin").write_bytes(b"x" * 1000)
            sweeper.note_written(1000)
        wait_until(lambda: sum(p.stat().st_size for p in tmp_path.rglob("f.bin")) <= 2500, 10)
    finally:
        sweeper.close()


def test_uploads_wake_the_cache_sweeper_of_the_app() -> None:
    svc = service(max_cache_mb=1, upload_kb_per_minute=100_000, max_upload_kb=1024)
    with launched(svc) as url:
        http = as_client("203.0.113.10")
        for i in range(6):
            answer = http.post(
                f"{url}/gradio_api/upload", files={"files": (f"t{i}.txt", b"x" * 400_000)}
            )
            assert answer.status_code == 200
        cache = Path(svc.demo.GRADIO_CACHE)

        def cache_bytes() -> int:
            return sum(p.stat().st_size for p in cache.rglob("*") if p.is_file())

        wait_until(lambda: cache_bytes() <= 2**20, 10)


def test_an_empty_or_blank_auth_file_refuses_to_start(tmp_path: Path) -> None:
    for content in ["", "\n  \n\t\n"]:
        users = tmp_path / "users.txt"
        users.write_text(content)
        with pytest.raises(ValueError, match="no user:password line"):
            Settings(auth=str(users)).auth_credentials()
    env = {**os.environ, "SENTIMENT_AUTH": str(tmp_path / "users.txt"), "SENTIMENT_MODEL": "vader"}
    started = subprocess.run(
        [sys.executable, "app.py"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        timeout=120,
        text=True,
        check=False,
    )
    assert started.returncode == 2
    assert started.stderr.strip().count("\n") == 0, started.stderr
    assert "no user:password line" in started.stderr


def test_no_route_is_open_when_the_login_has_no_pairs() -> None:
    # Defence in depth behind the start-up refusal: a login with no pairs opens nothing.
    from sentiment_demo.web.auth import basic_auth_ok

    assert not basic_auth_ok(None, [])
    assert not basic_auth_ok("Basic Og==", [])  # ":" (empty user and password)
    svc = service(mcp=True)
    svc.settings = Settings(auth="ann:pw", mcp=True)
    with launched(svc) as url:
        for method, path in [
            ("POST", "/predict"),
            ("GET", "/info"),
            ("GET", "/metrics"),
            ("GET", "/gradio_api/mcp/schema"),
            ("GET", "/gradio_api/info"),
        ]:
            answer = httpx.request(method, f"{url}{path}", json={"inputs": "good"}, timeout=30)
            assert answer.status_code in {401, 403}, (path, answer.status_code)


def test_an_auth_value_that_looks_like_a_missing_file_is_refused_without_echoing() -> None:
    for value in ["secrets/a:b.txt", "users:file.txt", "/etc/sentiment/users:x"]:
        with pytest.raises(ValueError, match="looks like a file path") as caught:
            Settings(auth=value).auth_credentials()
        user, password = value.split(":")
        assert f" {password}" not in str(caught.value)
        assert user not in str(caught.value)


def test_trusted_proxies_are_checked() -> None:
    assert parse_settings(["--trusted-proxies", "10.0.0.0/8, 127.0.0.1"], {}).trusted_proxies == (
        "10.0.0.0/8,127.0.0.1/32"
    )
    for bad in ["*", "proxy.example", "10.0.0.0/40"]:
        with pytest.raises(SystemExit):
            parse_settings(["--trusted-proxies", bad], {})


def test_a_forwarded_address_counts_only_from_a_trusted_proxy() -> None:
    settings = Settings(auth="ann:right")  # no trusted proxy
    with launched(build_service(FakeClassifier(), INFO, settings)) as url:
        statuses = [
            httpx.post(
                f"{url}/login",
                data={"username": f"user{i}", "password": "guess"},
                headers={"x-forwarded-for": f"203.0.113.{i}"},  # a new address every time
            ).status_code
            for i in range(8)
        ]
        assert statuses[:5] == [400] * 5
        assert 429 in statuses[5:]


def test_a_victims_address_in_the_header_does_not_lock_the_victim_out() -> None:
    with launched(service(auth="ann:right")) as url:
        victim = "198.51.100.20"
        # Through the proxy, the attacker's own header comes first; the proxy appends its address.
        attacker = {"x-forwarded-for": f"{victim}, 203.0.113.30"}
        for i in range(8):
            httpx.post(
                f"{url}/login", data={"username": f"u{i}", "password": "x"}, headers=attacker
            )
            httpx.post(
                f"{url}/predict", json={"inputs": "a"}, auth=(f"u{i}", "x"), headers=attacker
            )
        login = httpx.post(
            f"{url}/login",
            data={"username": "ann", "password": "right"},
            headers={"x-forwarded-for": victim},
        )
        assert login.status_code in {200, 302}
        api = httpx.post(
            f"{url}/predict",
            json={"inputs": "good"},
            auth=("ann", "right"),
            headers={"x-forwarded-for": victim},
        )
        assert api.status_code == 200


def test_guesses_at_one_user_from_many_addresses_are_throttled() -> None:
    with launched(service(auth="ann:right")) as url:
        statuses = [
            httpx.post(
                f"{url}/login",
                data={"username": "ann", "password": f"guess{i}"},
                headers={"x-forwarded-for": f"203.0.113.{i}"},
            ).status_code
            for i in range(13)
        ]
        assert statuses[:10] == [400] * 10
        assert 429 in statuses[10:]
        refused = httpx.post(
            f"{url}/login",
            data={"username": "ann", "password": "right"},
            headers={"x-forwarded-for": "203.0.113.99"},
        )
        assert refused.status_code == 429
        assert "for this user" in refused.json()["error"]
