"""Visitors' feedback: the SQLite store under load and SIGKILL, limits, the owner-only tab through the
API, exports read back by pandas, the Hub push against a stand-in, and fine-tuning on an export."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pandas as pd
import pytest
from gradio_client import Client
from huggingface_hub import ModelCard

from sentiment_demo.config import Settings
from sentiment_demo.core.classifier import ModelInfo
from sentiment_demo.core.served_model import ServedModel
from sentiment_demo.feedback import review
from sentiment_demo.feedback.collect import FeedbackCollector, FeedbackLimits, RateLimiter
from sentiment_demo.feedback.hub_sync import FeedbackPusher
from sentiment_demo.feedback.store import (
    SCHEMA_VERSION,
    UP,
    FeedbackError,
    FeedbackSchemaError,
    FeedbackStore,
    Submission,
    migrate,
    read_accepted,
)
from sentiment_demo.service import build_service
from sentiment_demo.ui.feedback_tab import owner_allowed
from tests.conftest import REPO_ROOT, FakeClassifier, app_process, free_port, launched

OWNER = ("owner", "s3cret-owner")
MB = 2**20


def fake_info(labels: tuple[str, ...] = ("positive", "negative")) -> ModelInfo:
    return ModelInfo(
        model="fake", device="cpu", dtype="float32", labels=labels, max_tokens=64,
        num_parameters=0, num_threads=1, load_seconds=0.0, warmup_seconds=0.0, model_card=None,
        backend="fake",
    )  # fmt: skip


def fake_model() -> ServedModel:
    classifier = FakeClassifier()
    return ServedModel("fake", fake_info(), classifier.classify_batch)


def collector(tmp_path: Path, per_minute: int = 10_000, max_mb: int = 50) -> FeedbackCollector:
    store = FeedbackStore(tmp_path / "feedback.sqlite", max_mb * MB)
    return FeedbackCollector(store, [fake_model()], FeedbackLimits(200, 50, per_minute))


def submission(text: str, answer: str = UP, session: str = "s1") -> Submission:
    return Submission(text, "fake", "rev", "negative", (("negative", 0.9), ("positive", 0.1)),
                      answer, "", session)  # fmt: skip


# The store


def test_the_store_is_wal_with_full_sync_and_a_versioned_schema(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "f.sqlite", MB)
    store.add(submission("a good film"))
    store.close()
    with sqlite3.connect(tmp_path / "f.sqlite") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store._writer is not None
    reopened = FeedbackStore(tmp_path / "f.sqlite", MB)  # an existing file is opened, not remade
    assert reopened._writer.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert [r.text for r in reopened.records()] == ["a good film"]
    reopened.close()


def test_a_newer_schema_is_refused_and_an_empty_file_is_migrated(tmp_path: Path) -> None:
    newer = tmp_path / "newer.sqlite"
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(FeedbackSchemaError, match="schema version 99, newer"):
        FeedbackStore(newer, MB)
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    conn = sqlite3.connect(empty, isolation_level=None)
    assert migrate(conn) == 0  # found version 0, brought up to date
    assert migrate(conn) == SCHEMA_VERSION  # nothing left to do
    conn.close()
    (tmp_path / "junk.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(FeedbackSchemaError, match="not a feedback database"):
        FeedbackStore(tmp_path / "junk.sqlite", MB)


def test_the_same_answer_from_the_same_session_is_counted_once(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "f.sqlite", MB)
    first = store.add(submission("a good film"))
    again = store.add(submission("a good film"))
    other_session = store.add(submission("a good film", session="s2"))
    other_answer = store.add(submission("a good film", answer="positive"))
    assert (first.duplicate, again.duplicate, again.id) == (False, True, first.id)
    assert not other_session.duplicate
    assert not other_answer.duplicate
    assert store.count() == 3
    records = store.records()
    assert {r.session_hash for r in records} == {store.session_hash("s1"), store.session_hash("s2")}
    assert all("s1" not in r.session_hash for r in records)  # a hash, never the session id
    assert {r.label for r in records if r.answer == "positive"} == {"positive"}
    assert {r.label for r in records if r.answer == UP} == {"negative"}  # the prediction


def test_the_size_limit_refuses_with_its_setting(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "f.sqlite", 64 * 1024)

    def fill() -> None:
        for n in range(10_000):
            store.add(submission(f"text {n} " + "x" * 150))

    with pytest.raises(FeedbackError, match=r"limit is 0.0625 MiB, --feedback-max-mb"):
        fill()
    kept = store.count()
    assert 0 < kept < 10_000
    store.set_status([1], "accepted")  # the owner can still review a full store
    assert [r.id for r in store.records(status="accepted")] == [1]


def test_64_concurrent_submitters_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    """64 threads over two stores on one file (two writers, as two processes would be): every
    record lands once, no "database is locked" reaches anyone."""
    path = tmp_path / "f.sqlite"
    stores = [FeedbackStore(path, 500 * MB), FeedbackStore(path, 500 * MB)]
    per_thread = 25
    errors: list[BaseException] = []
    ids: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(64)

    def submitter(n: int) -> None:
        store = stores[n % 2]
        start.wait()
        try:
            for k in range(per_thread):
                added = store.add(submission(f"text {n}-{k}", session=f"s{n}"))
                again = store.add(submission(f"text {n}-{k}", session=f"s{n}"))  # a double click
                assert again.duplicate
                assert again.id == added.id
                with lock:
                    ids.append(added.id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=submitter, args=(n,)) for n in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(ids) == len(set(ids)) == 64 * per_thread
    texts = [r.text for r in stores[0].records()]
    assert len(texts) == len(set(texts)) == 64 * per_thread


# Collecting: limits and their messages


def test_limits_and_their_messages(tmp_path: Path) -> None:
    desk = collector(tmp_path)
    with pytest.raises(FeedbackError, match="the limit is 200"):
        desk.submit("x" * 201, "fake", UP, "", "s", "c")
    with pytest.raises(FeedbackError, match="empty"):
        desk.submit("   ", "fake", UP, "", "s", "c")
    with pytest.raises(FeedbackError, match="at most 50 are kept \\(--feedback-note-chars\\)"):
        desk.submit("a good film", "fake", UP, "n" * 51, "s", "c")
    with pytest.raises(FeedbackError, match="one of the model's labels: positive, negative"):
        desk.submit("a good film", "fake", "neutral", "", "s", "c")
    with pytest.raises(FeedbackError, match="Unknown model 'other'; this app serves fake"):
        desk.submit("a good film", "other", UP, "", "s", "c")
    with pytest.raises(FeedbackError, match="not valid Unicode"):
        desk.submit("a good film", "fake", UP, "\ud800", "s", "c")
    assert desk.store.count() == 0
    message = desk.submit("a good good film", "fake", "negative", "wrong!", "s", "c")
    assert message.startswith("✅ Thank you: saved as record 1")
    record = desk.store.records()[0]
    # The prediction is the server's own (FakeClassifier: 2 of 4 words are "good"), not the client's.
    assert record.predicted == "positive" or record.predicted == "negative"
    assert dict(record.scores) == {"positive": 0.5, "negative": 0.5}
    assert (record.answer, record.label, record.note) == ("negative", "negative", "wrong!")


def test_the_rate_limit_is_per_client_and_slides(tmp_path: Path) -> None:
    now = [1000.0]
    limiter = RateLimiter(3, clock=lambda: now[0])
    for _ in range(3):
        limiter.check("a")
    with pytest.raises(FeedbackError, match=r"at most 3 per minute \(--feedback-per-minute\)"):
        limiter.check("a")
    limiter.check("b")  # another client is not held back
    now[0] += 61
    limiter.check("a")


# Reviewing: tables and exports


def test_review_tables_and_exports_read_back_by_pandas(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "f.sqlite", MB)
    store.add(submission("=cmd|' /C calc'!A0"))  # a formula: the CSV must keep it inert
    store.add(submission("b", answer="positive"))
    store.add(submission("c", answer="positive", session="s2"))
    store.set_status([2], "accepted")
    records = store.records()
    share = review.thumbs_up_share(records)
    assert share.to_dict("records") == [
        {"model": "fake", "predicted": "negative", "records": 3, "👍": 1, "👍 %": 33.3}
    ]
    confusion = review.confusion_table(records).set_index("model says ↓ / visitor says →")
    assert confusion.loc["negative"].to_dict() == {"negative": 1, "positive": 2}
    assert "3** records: 1 👍" in review.counts_line(records)
    for kind, read in (
        ("csv", pd.read_csv), ("jsonl", lambda p: pd.read_json(p, lines=True)),
        ("parquet", pd.read_parquet),
    ):  # fmt: skip
        table = read(review.write_export(records, kind, tmp_path))
        assert list(table["id"]) == [1, 2, 3]
        assert list(table["status"]) == ["new", "accepted", "new"]
        assert list(table["label"]) == ["negative", "positive", "positive"]
        assert json.loads(table["scores"][0]) == {"negative": 0.9, "positive": 0.1}
        first = table["text"][0]
        assert first == ("'=cmd|' /C calc'!A0" if kind == "csv" else "=cmd|' /C calc'!A0")
    assert review.parse_ids("3, 5-7 9") == [3, 5, 6, 7, 9]
    with pytest.raises(ValueError, match="not a record id"):
        review.parse_ids("3; drop table")


def test_who_may_review() -> None:
    owner = Settings(feedback="f.sqlite", feedback_owner="o:p")
    assert not owner_allowed(owner, False, None)
    assert not owner_allowed(owner, False, "someone")  # an app login is not the owner login
    assert owner_allowed(owner, True, None)
    with_auth = Settings(feedback="f.sqlite", auth="ann:pw")
    assert owner_allowed(with_auth, False, "ann")
    assert not owner_allowed(with_auth, False, None)
    assert not owner_allowed(Settings(feedback="f.sqlite"), True, None)  # nobody without a login


# Through the launched app


@pytest.fixture(scope="module")
def tiny_app(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    from sentiment_demo.backends import load_models

    folder = tmp_path_factory.mktemp("feedback-app")
    settings = Settings(
        model=str(tiny_model_dir),
        warmup=False,
        num_threads=1,
        feedback=str(folder / "feedback.sqlite"),
        feedback_owner=":".join(OWNER),
        feedback_per_minute=5,
        max_text_chars=300,
    )
    (classifier, info), *_ = load_models(settings.models, settings)
    service = build_service(classifier, info, settings)
    with launched(service) as url:
        yield url, service


def test_round_trip_through_gradio_client(tiny_app: tuple) -> None:
    url, service = tiny_app
    visitor = Client(url, verbose=False)
    model = service.models[0].name
    message = visitor.predict("a good film", model, UP, "spot on", api_name="/feedback")
    assert message.startswith("✅ Thank you: saved as record")
    again = visitor.predict("a good film", model, UP, "spot on", api_name="/feedback")
    assert "counted once" in again
    visitor.predict("the plot is boring", model, "negative", "", api_name="/feedback")
    with pytest.raises(Exception, match="one of the model's labels"):
        visitor.predict("a good film", model, "meh", "", api_name="/feedback")

    owner = Client(url, verbose=False)
    with pytest.raises(Exception, match="for the app's owner"):
        owner.predict("any", "any", "any", "", api_name="/feedback_review")
    refused = owner.predict("owner", "wrong", api_name="/feedback_sign_in")
    assert "Wrong user name or password" in refused
    signed = owner.predict(*OWNER, api_name="/feedback_sign_in")
    assert signed.startswith("✅")
    counts, share, confusion, records = owner.predict(
        "any", "any", "any", "", api_name="/feedback_review"
    )
    assert counts.startswith("**2** records")
    assert [sum(row[i] for row in share["data"]) for i in (2, 3)] == [2, 1]  # 2 records, 1 👍
    assert sum(sum(row[1:]) for row in confusion["data"]) == 2
    texts = {row[7]: row for row in records["data"]}
    assert set(texts) == {"a good film", "the plot is boring"}
    boring_id = texts["the plot is boring"][0]
    message, *_ = owner.predict(
        str(boring_id), "accepted", "any", "any", "any", "", api_name="/feedback_mark"
    )
    assert message == "Marked 1 of 1 record(s) accepted."
    exported = pd.read_parquet(owner.predict("parquet", api_name="/feedback_export"))
    accepted = exported[exported["status"] == "accepted"]
    assert list(accepted["text"]) == ["the plot is boring"]
    assert list(accepted["label"]) == ["negative"]
    assert set(exported["model_revision"]) == {service.feedback.revisions[model]}
    assert exported["model_revision"][0].startswith("sha256:")


def test_a_visitor_is_refused_every_owner_endpoint(tiny_app: tuple) -> None:
    url, _ = tiny_app
    visitor = Client(url, verbose=False)
    calls: list[tuple[tuple[Any, ...], str]] = [
        (("any", "any", "any", ""), "/feedback_review"),
        (("1", "rejected", "any", "any", "any", ""), "/feedback_mark"),
        (("csv",), "/feedback_export"),
    ]
    for args, name in calls:
        with pytest.raises(Exception, match="for the app's owner") as refused:
            visitor.predict(*args, api_name=name)
        assert "good film" not in str(refused.value)
    # Raw HTTP, without gradio_client: the same refusal, no record in the answer.
    answer = httpx.post(f"{url}/gradio_api/call/feedback_export", json={"data": ["jsonl"]})
    event = answer.json()["event_id"]
    stream = httpx.get(f"{url}/gradio_api/call/feedback_export/{event}", timeout=30).text
    assert "event: error" in stream
    assert "good film" not in stream


def test_the_rate_limit_through_the_app(tiny_app: tuple) -> None:
    url, service = tiny_app
    client = Client(url, verbose=False)
    model = service.models[0].name
    service.feedback.limiter.forget("127.0.0.1")
    for n in range(5):
        client.predict(f"film {n}", model, UP, "", api_name="/feedback")
    with pytest.raises(Exception, match=r"at most 5 per minute \(--feedback-per-minute\)"):
        client.predict("film 6", model, UP, "", api_name="/feedback")


def test_a_forged_forwarded_address_does_not_escape_the_rate_limit(tiny_app: tuple) -> None:
    # No proxy is trusted by default: X-Forwarded-For is the client's own claim, and ignored.
    url, service = tiny_app
    model = service.models[0].name
    service.feedback.limiter.forget("127.0.0.1")
    saved = []
    with httpx.Client(timeout=30) as http:
        for n in range(8):
            headers = {"x-forwarded-for": f"10.9.0.{n}"}
            started = http.post(
                f"{url}/gradio_api/call/feedback",
                json={"data": [f"forged {n}", model, UP, ""]},
                headers=headers,
            )
            event = started.json()["event_id"]
            stream = http.get(f"{url}/gradio_api/call/feedback/{event}", headers=headers).text
            saved.append("saved as record" in stream)
    assert saved.count(True) == 5  # --feedback-per-minute, whatever the header says


# Nothing acknowledged is lost


def _submit(url: str, http: httpx.Client, text: str, model: str) -> bool:
    """Send one record over raw HTTP; True only when the app acknowledged it as saved."""
    try:
        started = http.post(f"{url}/gradio_api/call/feedback", json={"data": [text, model, UP, ""]})
        event = started.json()["event_id"]
        stream = http.get(f"{url}/gradio_api/call/feedback/{event}", timeout=30).text
    except (httpx.HTTPError, ValueError, KeyError):
        return False
    return "event: complete" in stream and "saved as record" in stream


def test_sigkill_during_a_burst_loses_no_acknowledged_record(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    database = tmp_path / "feedback.sqlite"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable, "app.py", "--model", str(tiny_model_dir), "--port", str(port),
        "--num-threads", "1", "--no-warmup", "--feedback", str(database),
        "--feedback-per-minute", "100000", "--feedback-owner", ":".join(OWNER),
    ]  # fmt: skip
    model = tiny_model_dir.name
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def burst(worker: int) -> None:
        with httpx.Client(timeout=30) as http:
            for k in range(10_000):
                if stop.is_set():
                    return
                text = f"film {worker} {k}"
                if _submit(url, http, text, model):
                    with lock:
                        acknowledged.append(text)

    with app_process(command, REPO_ROOT, env, tmp_path / "app.log", url) as server:
        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(burst, w) for w in range(8)]
            deadline = time.monotonic() + 120
            while len(acknowledged) < 60 and time.monotonic() < deadline:
                time.sleep(0.05)
            os.kill(server.pid, signal.SIGKILL)  # mid-burst: requests are in flight
            server.wait(timeout=30)
            stop.set()
            wait_all(futures)
    assert len(acknowledged) >= 60, (tmp_path / "app.log").read_text()[-3000:]
    assert Path(str(database) + "-wal").exists()  # killed before any checkpoint on close

    with app_process(command, REPO_ROOT, env, tmp_path / "app2.log", url):
        owner = Client(url, verbose=False)
        owner.predict(*OWNER, api_name="/feedback_sign_in")
        kept = pd.read_json(owner.predict("jsonl", api_name="/feedback_export"), lines=True)
    missing = set(acknowledged) - set(kept["text"])
    assert missing == set()
    assert kept["text"].is_unique


# The Hub push, against a stand-in


class FakeHub:
    """Stands in for huggingface_hub.HfApi at the network boundary: the Hub is unreachable from
    these machines. It records repos and the content of every committed file."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.repos: list[dict[str, Any]] = []
        self.files: dict[str, str] = {}
        self.pool = ThreadPoolExecutor(1)

    def create_repo(self, repo_id: str, **kwargs: Any) -> SimpleNamespace:
        self.repos.append({"repo_id": repo_id, **kwargs})
        return SimpleNamespace(repo_id=repo_id)

    def run_as_future(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return self.pool.submit(fn, *args, **kwargs)

    def create_commit(self, repo_id: str, operations: list[Any], **kwargs: Any) -> str:
        if self.fail:
            raise OSError("503 Service Unavailable")
        for op in operations:
            self.files[op.path_in_repo] = op.path_or_fileobj.read().decode()
        return f"commit {len(self.files)}"


def _pushed_texts(hub: FakeHub) -> list[str]:
    return [
        json.loads(line)["text"]
        for _, content in sorted(hub.files.items())
        for line in content.splitlines()
    ]


def test_accepted_records_are_pushed_to_a_private_dataset(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "f.sqlite", MB)
    for text in ("one", "two", "three"):
        store.add(submission(text))
    store.set_status([1, 3], "accepted")
    hub = FakeHub(fail=True)
    pusher = FeedbackPusher(store, "me/feedback", "accepted", 60, tmp_path / "push", hf_api=hub)
    try:
        assert hub.repos == [{"repo_id": "me/feedback", "private": True, "repo_type": "dataset",
                              "exist_ok": True}]  # fmt: skip
        with pytest.raises(OSError, match="503"):
            pusher.trigger().result()
        assert store.records(unpushed=True, status="accepted")  # a failed push keeps them
        hub.fail = False
        pusher.trigger().result()
        assert sorted(_pushed_texts(hub)) == ["one", "three"]
        assert all(path.startswith("data/feedback-") for path in hub.files)
        row = json.loads(next(iter(hub.files.values())).splitlines()[0])
        assert "pushed_at" not in row
        assert row["session_hash"] == store.session_hash("s1")
        pusher.trigger().result()
        assert len(hub.files) == 1  # nothing new, no commit
        store.set_status([2], "accepted")
        pusher.trigger().result()
        assert sorted(_pushed_texts(hub)) == ["one", "three", "two"]  # a new file, none rewritten
        assert len(hub.files) == 2
    finally:
        pusher.stop()
        store.close()


def test_the_app_pushes_feedback_when_a_dataset_is_set(tmp_path: Path) -> None:
    hub = FakeHub()
    settings = Settings(
        model="fake", warmup=False, feedback=str(tmp_path / "f.sqlite"),
        feedback_dataset="me/feedback", feedback_push="all",
    )  # fmt: skip
    service = build_service(FakeClassifier(), fake_info(), settings, hub_api=hub)
    assert service.feedback is not None
    service.feedback.submit("a good film", "fake", UP, "", "s", "c")
    service.close()  # pushes what is left before closing
    assert _pushed_texts(hub) == ["a good film"]


# Fine-tuning on the feedback


@pytest.mark.slow
def test_finetune_on_an_export_uses_only_accepted_records(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    from recipe import finetune
    from recipe.labelled_data import read_file

    store = FeedbackStore(tmp_path / "feedback.sqlite", 10 * MB)
    words = {"positive": "good great fun", "negative": "bad awful boring", "neutral": "the plot"}
    for label, text in words.items():
        for n in range(12):
            store.add(submission(f"this film {text} {n}", answer=label if label != "negative"
                                 else UP, session=f"s{n}"))  # fmt: skip
    store.add(submission("a rejected one", answer="positive"))
    store.set_status(list(range(1, 37)), "accepted")
    store.set_status([37], "rejected")
    export = review.write_export(store.records(), "csv", tmp_path)
    original = tmp_path / "original.csv"
    original.write_text(
        "text,label\n"
        + "".join(
            f"a {text} movie {n},{label}\n" for label, text in words.items() for n in range(12)
        )
    )
    assert len(read_accepted(tmp_path / "feedback.sqlite")) == 36
    direct = read_file(tmp_path / "feedback.sqlite", "text", "label")
    assert direct.feedback == 36
    assert "a rejected one" not in direct.texts
    code = finetune.main(
        [
            "--data", str(original), "--data", str(export),
            "--text-column", "text", "--label-column", "label",
            "--base", str(tiny_model_dir), "--output", str(tmp_path / "out"),
            "--work-dir", str(tmp_path / "work"), "--max-epochs", "1", "--batch-size", "8",
        ]
    )  # fmt: skip
    assert code == 0
    training = json.loads((tmp_path / "out" / "training.json").read_text())
    assert training["feedback_records"] == 36
    assert training["dropped_rows"] == {"feedback not accepted": 1}
    assert sum(training["split_sizes"].values()) == 36 + 36
    card = ModelCard.load(tmp_path / "out" / "README.md")
    assert "36 of these rows are visitors' feedback" in card.text
