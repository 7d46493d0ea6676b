"""A standing adversarial suite: what a hostile user sends, against the launched app on loopback.

After each attack the app must have answered with a clear message naming the problem, and must still
serve an ordinary request. Every loop here is bounded in count and time, and only loopback is used.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file

from sentiment_demo.backends.transformers_backend import load_classifier
from sentiment_demo.config import Settings
from sentiment_demo.service import Service, build_service
from tests.conftest import batch_refusal, launched, post_and_leave, wait_until

MAX_ROWS = 50
MAX_BODY_KB = 1024
# Gradio checks the component's file_types first; our own check says the same for other callers.
XLSX_REFUSED = r"upload a file that is one of these formats: \['.txt', '.csv'\]|only .txt and .csv"


@pytest.fixture(scope="module")
def app(tiny_model_dir: Path) -> Iterator[tuple[Service, str]]:
    settings = Settings(
        model=str(tiny_model_dir),
        device="cpu",
        dtype="float32",
        num_threads=1,
        max_batch_rows=MAX_ROWS,
        max_body_kb=MAX_BODY_KB,
        max_upload_kb=64,
    )
    classifier, info = load_classifier(settings)
    service = build_service(classifier, info, settings)
    with launched(service) as url:
        yield service, url


@pytest.fixture(scope="module")
def url(app: tuple[Service, str]) -> str:
    return app[1]


@pytest.fixture(scope="module")
def client(url: str) -> Client:
    return Client(url, verbose=False)


@pytest.fixture(autouse=True)
def still_healthy(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every attack, an ordinary request is still answered."""
    yield
    if "url" in request.fixturenames:
        address = request.getfixturevalue("url")
        answer = httpx.post(f"{address}/predict", json={"inputs": "good film"}, timeout=30)
        assert answer.status_code == 200, answer.text
        assert httpx.get(f"{address}/readyz").status_code == 200


def gradio_call(url: str, api_name: str, data: list[object]) -> list[object]:
    """Gradio's raw HTTP API, with the JSON made by json.dumps: it can carry what gradio_client
    cannot encode (a lone surrogate travels as the escape \\ud800)."""
    body = json.dumps({"data": data})
    started = httpx.post(
        f"{url}/gradio_api/call/{api_name}",
        content=body,
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert started.status_code == 200, started.text
    event_id = started.json()["event_id"]
    stream = httpx.get(f"{url}/gradio_api/call/{api_name}/{event_id}", timeout=30).text
    lines = stream.splitlines()
    event = next(line for line in lines if line.startswith("event:")).split(":", 1)[1].strip()
    payload = next(line for line in lines if line.startswith("data:")).split(":", 1)[1]
    assert event == "complete", stream
    return json.loads(payload)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The text is empty"),
        ("   \n\t ", "The text is empty"),
        ("x" * 100_000, "100,000 characters; the limit is 2,000"),
        ("good \ud800 film", "unpaired surrogate"),
    ],
)
def test_bad_texts_get_their_own_message(url: str, text: str, message: str) -> None:
    label, notice = gradio_call(url, "classify", [text, None])  # raw HTTP sends every input
    assert message in notice
    assert label is None or label.get("label") is None
    raw = json.dumps({"inputs": text})  # json.dumps keeps a lone surrogate as \ud800
    answer = httpx.post(f"{url}/predict", content=raw, headers={"content-type": "application/json"})
    assert answer.status_code in {413, 422}
    assert message in answer.json()["error"]


def test_nul_bytes_in_a_text_are_read_as_text(client: Client) -> None:
    label, _ = client.predict("good\x00film\x00", api_name="/classify")
    assert label["label"] in {"negative", "neutral", "positive"}


def test_a_50_mb_body_is_refused_without_being_read(url: str) -> None:
    def post_fifty_megabytes(path: str, declare_length: bool) -> httpx.Response:
        chunk = b"x" * 2**20
        headers = {"content-type": "application/json"}
        if declare_length:  # without a length the body is counted while it arrives
            headers["content-length"] = str(50 * len(chunk))
        return httpx.post(f"{url}{path}", content=(chunk for _ in range(50)), headers=headers)

    declared = post_fifty_megabytes("/predict", declare_length=True)
    assert declared.status_code == 413
    assert f"the limit is {MAX_BODY_KB:,} KiB" in declared.json()["error"]
    assert post_fifty_megabytes("/predict", declare_length=False).status_code == 413
    assert post_fifty_megabytes("/gradio_api/call/classify", declare_length=True).status_code == 413


def test_ten_thousand_inputs_are_refused_with_the_limit(client: Client, url: str) -> None:
    answer = httpx.post(f"{url}/predict", json={"inputs": ["good"] * 10_000}, timeout=30)
    assert answer.status_code == 413
    assert f"batch size 10000 > maximum allowed batch size {MAX_ROWS}" in answer.json()["error"]
    refusal = batch_refusal(client, "good\n" * 10_000, None, None)
    assert f"has 10,000 texts; the limit is {MAX_ROWS}" in refusal


@pytest.mark.parametrize(
    "body",
    [
        5,
        "inputs",
        [],
        None,
        {"inputs": 5},
        {"inputs": None},
        {"inputs": {"text": "good"}},
        {"inputs": [1, 2]},
        {"inputs": [[1]]},
        {"inputs": [["good", "film"]]},
        {"inputs": "good", "truncate": "yes"},
        {"inputs": "good", "raw_scores": 1},
        {"inputs": "good", "parameters": {"top_k": "3"}},
        {"inputs": "good", "parameters": {"top_k": 0}},
        {"inputs": "good", "truncation_direction": 5},
    ],
)
def test_wrong_json_types_get_422_naming_the_field(url: str, body: object) -> None:
    answer = httpx.post(f"{url}/predict", json=body)
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error
    assert "Traceback" not in error


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("data.csv", bytes(range(256)) * 4, "not UTF-8"),
        ("nul.csv", b"text\ngood\x00film\n", "binary file"),
        ("empty.txt", b"", "has no text"),
        ("empty.csv", b"", "no header row"),
        ("ragged.csv", b"id,text\n1,good film,extra\n", "3 fields where the header has 2"),
        ("quote.csv", b'text\n"good film\n', "not valid CSV"),
        ("reviews.xlsx", b"PK\x03\x04 not really a workbook", XLSX_REFUSED),
        (
            "big.txt",
            b"good film\n" * 10_000,
            r"the limit is 64 KiB|maximum.* size of 65536 bytes",
        ),
    ],
)
def test_bad_uploads_get_a_message_naming_the_problem(
    client: Client, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    upload = tmp_path / name
    upload.write_bytes(content)
    assert re.search(message, batch_refusal(client, "", handle_file(str(upload)), None))


def test_an_xlsx_workbook_is_refused_even_when_real(client: Client, tmp_path: Path) -> None:
    workbook = tmp_path / "reviews.xlsx"
    with zipfile.ZipFile(workbook, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    assert re.search(XLSX_REFUSED, batch_refusal(client, "", handle_file(str(workbook)), None))


def test_utf16_files_from_spreadsheets_are_read(client: Client, tmp_path: Path) -> None:
    upload = tmp_path / "unicode.txt"
    upload.write_bytes("good film\nawful plot\n".encode("utf-16"))
    table, _, _, summary = client.predict(
        "", handle_file(str(upload)), None, api_name="/classify_batch"
    )
    text_column = table["headers"].index("text")
    assert [row[text_column] for row in table["data"]] == ["good film", "awful plot"]
    assert "Analysed 2 of 2 texts" in summary


def test_a_5000_word_text_for_explain_is_refused_before_any_work(client: Client) -> None:
    pieces, notice = client.predict("good " * 5000, api_name="/explain")
    assert pieces in ([], None) or not pieces
    assert "25,000 characters; the limit is 2,000" in notice


def test_clients_that_drop_their_connection_mid_request_hurt_nobody(url: str) -> None:
    body = json.dumps({"inputs": ["good film " * 20] * MAX_ROWS}).encode()
    for _ in range(20):
        post_and_leave(url, body, sent=len(body) // 2)  # gone while sending
        post_and_leave(url, body)  # the whole request, then gone before the answer
    answers = [httpx.post(f"{url}/predict", json={"inputs": "good"}, timeout=30) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5


def test_spreadsheet_formulas_are_neutralised_in_the_download_only(
    client: Client, tmp_path: Path
) -> None:
    texts = [
        '=HYPERLINK("http://x","click") awful',
        "+1 good",
        "-bad",
        "@SUM(A1) film",
        "good film",
    ]
    table, _, csv_path, _ = client.predict("\n".join(texts), None, None, api_name="/classify_batch")
    text_column = table["headers"].index("text")
    assert [row[text_column] for row in table["data"]] == texts  # the screen shows what was sent
    with open(csv_path, newline="", encoding="utf-8") as handle:
        written = [row["text"] for row in __import__("csv").DictReader(handle)]
    assert written == ["'" + t for t in texts[:4]] + ["good film"]


def test_markup_in_a_column_name_is_shown_as_text(client: Client, tmp_path: Path) -> None:
    header = "<img src=x onerror=alert(1)> **bold** [link](http://evil.example)"
    upload = tmp_path / "hostile.csv"
    upload.write_text(f'"{header}",id\ngood film,1\n', encoding="utf-8")
    _, _, _, summary = client.predict(
        "", handle_file(str(upload)), header, api_name="/classify_batch"
    )
    assert header in summary  # returned as plain text; the browser test checks it is not rendered


def test_download_files_stay_bounded_over_many_jobs(tiny_model_dir: Path) -> None:
    import os

    settings = Settings(
        model=str(tiny_model_dir), device="cpu", dtype="float32", num_threads=1, file_lifetime=2
    )
    classifier, info = load_classifier(settings)
    service = build_service(classifier, info, settings)
    cache = Path(os.environ["GRADIO_TEMP_DIR"])

    def files() -> set[Path]:
        # os.walk, unlike rglob, passes over a folder the sweeper removes while it is being listed.
        return {
            Path(root) / name
            for folder in (cache, service.results.folder)
            for root, _, names in os.walk(folder)
            for name in names
        }

    with launched(service) as address:
        client = Client(address, verbose=False)
        # Only files this test adds count: earlier tests' files in the shared cache age out meanwhile.
        before = files()
        counts = []
        for round_ in range(3):
            for job in range(10):
                client.predict(
                    f"good film {round_} {job}\nbad", None, None, api_name="/classify_batch"
                )
            written = len(files() - before)
            # Once the 2 s lifetime has passed (the cache is swept every second), the round's files
            # are going: fewer than the 20 it wrote remain.
            wait_until(lambda: len(files() - before) < 20, 15, "files swept after their lifetime")
            counts.append((written, len(files() - before)))
        # Bounded: each round writes 20 files (10 CSVs and Gradio's copies); kept, they would add up
        # to 20, 40, 60. Only the youngest remain.
        assert max(after for _, after in counts) < 20, counts
    assert not service.results.folder.exists()  # closing the app removes its folder


PASSWORD = "s3cret-Pässwörd"


def _mcp(client: httpx.Client, url: str, method: str, params: dict | None = None) -> httpx.Response:
    headers = {"accept": "application/json, text/event-stream"}
    message = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}
    return client.post(f"{url}/gradio_api/mcp/", json=message, headers=headers, timeout=30)


def test_auth_covers_every_route_and_the_password_never_shows(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.conftest import FakeClassifier
    from tests.test_ui import INFO

    settings = Settings(auth=f"ann:{PASSWORD}", mcp=True)
    with launched(build_service(FakeClassifier(), INFO, settings)) as url:
        anonymous = httpx.Client()
        routes = [
            ("GET", "/config"),
            ("GET", "/gradio_api/info"),
            ("POST", "/gradio_api/call/classify"),
            ("GET", "/gradio_api/file=/etc/hostname"),
            ("POST", "/predict"),
            ("GET", "/info"),
            ("GET", "/metrics"),
            ("GET", "/gradio_api/mcp/schema"),
            ("POST", "/gradio_api/mcp/"),
        ]
        for method, path in routes:
            answer = anonymous.request(method, f"{url}{path}", json={"data": ["good"]})
            assert answer.status_code in {401, 403}, (path, answer.status_code)
        wrong = httpx.Client(auth=("ann", "guess"))
        assert wrong.post(f"{url}/predict", json={"inputs": "good"}).status_code == 401
        assert _mcp(wrong, url, "tools/list").status_code == 401
        assert wrong.get(f"{url}/gradio_api/mcp/schema").status_code == 401

        with pytest.raises(Exception, match=r"(?i)auth|login|credentials|401"):
            Client(url, verbose=False).predict("good", api_name="/classify")
        logged_in = Client(url, auth=("ann", PASSWORD), verbose=False)
        assert logged_in.predict("good good", api_name="/classify")[0]["label"] == "positive"

        member = httpx.Client(auth=("ann", PASSWORD))  # a non-ASCII password works over Basic auth
        assert member.post(f"{url}/predict", json={"inputs": "good"}).status_code == 200
        assert member.get(f"{url}/metrics").status_code == 200
        assert member.get(f"{url}/gradio_api/mcp/schema").status_code == 200
        listed = _mcp(member, url, "tools/list")
        assert listed.status_code == 200
        assert '"classify"' in listed.text
        called = _mcp(
            member, url, "tools/call", {"name": "classify", "arguments": {"text": "good"}}
        )
        assert called.status_code == 200
        assert "positive" in called.text, called.text

        page = anonymous.get(f"{url}/").text + anonymous.get(f"{url}/readyz").text
        assert PASSWORD not in page
    assert PASSWORD not in caplog.text


def test_a_malformed_auth_value_is_not_echoed() -> None:
    with pytest.raises(ValueError) as caught:
        Settings(auth="ann-no-colon-" + PASSWORD).auth_credentials()
    assert PASSWORD not in str(caught.value)
    assert "user:password" in str(caught.value)


def test_repeated_wrong_logins_are_slowed_down() -> None:
    from tests.conftest import FakeClassifier
    from tests.test_ui import INFO

    # The test client is the trusted proxy hop, so X-Forwarded-For names the clients.
    settings = Settings(auth=f"ann:{PASSWORD}", trusted_proxies="127.0.0.1")
    with launched(build_service(FakeClassifier(), INFO, settings)) as url:
        guesser = httpx.Client(headers={"x-forwarded-for": "203.0.113.7"})
        statuses = [
            guesser.post(
                f"{url}/login", data={"username": "ann", "password": f"guess{i}"}
            ).status_code
            for i in range(8)
        ]
        assert statuses[:5] == [400] * 5  # five free tries, then a wait that doubles
        assert 429 in statuses[5:]
        refused = guesser.post(f"{url}/login", data={"username": "ann", "password": PASSWORD})
        assert refused.status_code == 429  # even the right password waits its turn
        assert int(refused.headers["retry-after"]) >= 1
        assert "too many failed logins" in refused.json()["error"]
        # Wrong Basic credentials on the JSON routes count the same way.
        api_guesser = httpx.Client(auth=("bob", "nope"), headers={"x-forwarded-for": "203.0.113.8"})
        api = [
            api_guesser.post(f"{url}/predict", json={"inputs": "good"}).status_code
            for _ in range(8)
        ]
        assert api[:5] == [401] * 5
        assert 429 in api[5:]
        # Another client is not affected.
        other = httpx.Client(auth=("ann", PASSWORD), headers={"x-forwarded-for": "198.51.100.1"})
        assert other.post(f"{url}/predict", json={"inputs": "good"}).status_code == 200
        login = httpx.post(
            f"{url}/login",
            data={"username": "ann", "password": PASSWORD},
            headers={"x-forwarded-for": "198.51.100.2"},
        )
        assert login.status_code in {200, 302}


def test_every_mcp_tool_can_be_called(mcp_url: str) -> None:
    url = mcp_url
    with httpx.Client() as mcp:
        tools = {t["name"]: t for t in mcp.get(f"{url}/gradio_api/mcp/schema", timeout=30).json()}
        batch = tools["classify_batch"]["inputSchema"]
        assert batch.get("required", []) == []  # a file or a column is not needed for pasted text
        assert "enum" not in batch["properties"]["column"]
        called = _mcp(
            mcp, url, "tools/call", {"name": "classify_batch", "arguments": {"pasted": "good\nbad"}}
        )
        assert called.status_code == 200
        assert "Analysed 2 of 2 texts" in called.text, called.text
        explained = _mcp(mcp, url, "tools/call", {"name": "explain", "arguments": {"text": "good"}})
        assert "leave-one-word-out" in explained.text, explained.text


@pytest.mark.parametrize("text", ["\x00\x00\x00", "zzzz qqqq xxxx"])
def test_a_text_with_nothing_the_model_can_read_says_so(client: Client, text: str) -> None:
    label, notice = client.predict(text, api_name="/classify")
    assert label["label"]  # the scores are still shown...
    assert "found no word it knows" in notice  # ...with a warning that they mean little
    table, _, _, _ = client.predict(f"good film\n{text}", None, None, api_name="/classify_batch")
    assert "found no word it knows" in table["data"][1][-1]
    assert table["data"][0][-1] == ""
