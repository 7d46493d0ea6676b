"""Shared fixtures: an offline tiny random model, a recording fake classifier, a launched app."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import httpx
import pytest

# Set before gradio or huggingface_hub are imported anywhere: no analytics, never the Hub.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# One temp dir for the session: module-scoped servers must see the same upload folder in every test.
os.environ["GRADIO_TEMP_DIR"] = tempfile.mkdtemp(prefix="sentiment-tests-gradio-")

from sentiment_demo.core.classifier import Classifier, LabelScore, ModelInfo, Prediction

if TYPE_CHECKING:
    from starlette.testclient import TestClient

    from sentiment_demo.service import Service

REPO_ROOT = Path(__file__).resolve().parent.parent
EMBEDDED_MODEL = REPO_ROOT / "models" / "minilm-sentiment"
TINY_WORDS = [
    "the",
    "a",
    "film",
    "movie",
    "is",
    "was",
    "good",
    "great",
    "bad",
    "awful",
    "not",
    "very",
    "plot",
    "acting",
    "and",
    "but",
    "it",
    "this",
    "i",
    "love",
    "hate",
    "boring",
    "fun",
    ",",
    ".",
    "!",
]


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer random BERT with three labels and a 30-word vocabulary, saved like a real model."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    folder = tmp_path_factory.mktemp("tiny-model")
    # transformers 5 takes the vocabulary itself; a vocab_file argument is ignored without a word,
    # leaving a tokenizer that reads every word as [UNK] (the loader now refuses such a tokenizer).
    vocab = {
        t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *TINY_WORDS])
    }
    tokenizer = BertTokenizer(vocab=vocab, model_max_length=32)
    config = BertConfig(
        vocab_size=len(TINY_WORDS) + 5,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=32,
        num_labels=3,
        id2label={0: "negative", 1: "neutral", 2: "positive"},
        label2id={"negative": 0, "neutral": 1, "positive": 2},
    )
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


class FakeClassifier:
    """Implements the Classifier protocol without a model and records every batch it is given.

    A text's positive score is the share of the word 'good' among its words, so results are
    predictable. Faults are injected as a model would raise them: the text 'explode' makes any batch
    that holds it raise (a poison input), and `broken = True` makes every call raise (a dead model).
    """

    def __init__(self, max_batch_size: int = 8, delay: float = 0.0) -> None:
        self.max_batch_size = max_batch_size
        self.delay = delay
        self.broken = False
        self.batches: list[list[str]] = []
        self.calls = 0  # calls begun, counted before the gate: a call held there counts
        self.gate = threading.Event()
        self.gate.set()

    def classify_batch(self, texts: Sequence[str]) -> list[Prediction]:
        self.calls += 1
        self.gate.wait(timeout=30)
        self.batches.append(list(texts))
        if self.delay:
            time.sleep(self.delay)
        if self.broken:
            raise RuntimeError("CUDA error: device-side assert triggered")
        if "explode" in texts:
            raise RuntimeError("model crashed")
        predictions = []
        for text in texts:
            words = text.split()
            positive = round(words.count("good") / len(words), 4) if words else 0.0
            scores = sorted(
                (LabelScore("positive", positive), LabelScore("negative", round(1 - positive, 4))),
                key=lambda s: s.score,
                reverse=True,
            )
            predictions.append(
                Prediction(tuple(scores), num_tokens=len(words), kept_tokens=len(words))
            )
        return predictions


@pytest.fixture
def fake_classifier() -> FakeClassifier:
    return FakeClassifier()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def app_process(
    command: list[str], cwd: Path, env: dict[str, str], log: Path, url: str
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `app.py` as a user would, wait until `url` answers, and stop it afterwards.

    Fails the test with the server's output if it exits or does not answer within 180 s.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as output:
        server = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            if server.poll() is not None:
                pytest.fail(f"{command[-1]} exited with {server.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/gradio_api/info", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{command[-1]} did not answer within 180 s:\n{log.read_text()}")
            time.sleep(0.5)
        yield server
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextmanager
def launched(service: object) -> Iterator[str]:
    """Launch a Service on loopback without blocking, yield its URL, and always close it."""
    url = service.launch(  # type: ignore[attr-defined]
        server_name="127.0.0.1", server_port=free_port(), quiet=True
    )
    try:
        yield url.rstrip("/")
    finally:
        service.close()  # type: ignore[attr-defined]


def batch_refusal(client: object, *args: object) -> str:
    """Why /classify_batch refused its input: the ⚠️ summary (our checks, which leave the outputs
    clean), or the error Gradio raised itself (an upload over the size limit, a wrong file type)."""
    try:
        table, chart, download, summary = client.predict(*args, api_name="/classify_batch")  # type: ignore[attr-defined]
    except Exception as exc:  # gradio_client raises its own error types
        message = str(exc)
    else:
        assert summary.startswith("⚠️ "), summary
        assert (table["data"], chart, download) == ([], None, None)
        return str(summary)
    assert "verbose error reporting" not in message
    return message


def post_and_leave(url: str, body: bytes, sent: int | None = None) -> None:
    """POST `body` (or its first `sent` bytes) to /predict over a raw socket, then close it unanswered:
    a client that leaves mid-request."""
    address = urlparse(url)
    head = (
        b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
    )
    with socket.create_connection((address.hostname, address.port), timeout=5) as sock:
        sock.sendall(head + body[:sent])


def wait_until(condition: Callable[[], object], timeout: float = 10, what: str = "") -> None:
    """Poll `condition` every 10 ms until it holds; fail the test naming `what` after `timeout` s.

    Use it instead of a fixed sleep: it returns as soon as the state is reached, and a state that is
    never reached fails the test instead of letting it go on from the wrong state.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not reached within {timeout} s: {what or condition}")
        time.sleep(0.01)


@contextmanager
def in_process(service: Service) -> Iterator[TestClient]:
    """The JSON routes of `service` behind the app's own ASGI middlewares, called without a socket.

    Same routes (web/routes.py) and middlewares (Service.middleware) as a launched app, in an app of
    their own: for tests where the socket is not the point. Closes the service's scheduler after.
    """
    from fastapi import FastAPI
    from starlette.testclient import TestClient

    from sentiment_demo.web.routes import add_api_routes

    credentials = service.settings.auth_credentials()
    app = FastAPI(middleware=service.middleware(credentials))
    add_api_routes(
        app, service.scheduler, service.metrics, service.settings, service.info, credentials
    )
    try:
        with TestClient(app, base_url="http://127.0.0.1") as client:
            yield client
    finally:
        service.close()


@pytest.fixture(scope="session")
def embedded_model() -> tuple[Classifier, ModelInfo]:
    """The embedded model (models/minilm-sentiment) loaded once for the session: CPU, one thread,
    the default dtype (bfloat16 where the CPU has it). Read-only: tests may classify, not change it."""
    from sentiment_demo.backends.transformers_backend import load_classifier
    from sentiment_demo.config import Settings

    if not EMBEDDED_MODEL.is_dir():
        pytest.fail(f"the embedded model is missing: {EMBEDDED_MODEL} (make model rebuilds it)")
    return load_classifier(Settings(model=str(EMBEDDED_MODEL), device="cpu", num_threads=1))


def wait_for_jobs_in_queue(jobs: Sequence[object], timeout: float = 10) -> None:
    """Wait until every gradio_client job has reached the app's queue (or was already answered).

    Gradio tells each client its place once the event is queued ("estimation"), so this is the
    moment the events are on the server, without a sleep long enough for a slow machine.
    """
    from gradio_client.utils import Status

    def queued(job: object) -> bool:
        code = job.status().code  # type: ignore[attr-defined]
        return bool(job.done()) or not code < Status.IN_QUEUE  # type: ignore[attr-defined]

    wait_until(lambda: all(queued(job) for job in jobs), timeout, "every job in the app's queue")


# A fake model's description, for services built around a FakeClassifier (as tests.test_ui.INFO).
FAKE_INFO = ModelInfo(
    model="fake/sentiment",
    device="cpu",
    dtype="float32",
    labels=("negative", "positive"),
    max_tokens=512,
    num_parameters=1,
    num_threads=1,
    load_seconds=0.0,
    warmup_seconds=0.0,
    model_card=None,
)


@pytest.fixture(scope="session")
def mcp_url() -> Iterator[str]:
    """One launched app with Gradio's MCP server on (`Settings(mcp=True)`, a FakeClassifier) for the
    session: the tests that list or call its tools share it."""
    from sentiment_demo.config import Settings
    from sentiment_demo.service import build_service

    with launched(build_service(FakeClassifier(), FAKE_INFO, Settings(mcp=True))) as url:
        yield url
