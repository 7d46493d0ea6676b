"""Turning what a visitor sends into a checked Submission: limits, the rate limit, the model's answer.

The model's prediction is computed here by the server, never taken from the request, so a record
always holds what the model really said about its text. No Gradio, no torch.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from sentiment_demo.core.classifier import ModelInfo, Prediction, Rejection
from sentiment_demo.core.engine import check_text
from sentiment_demo.core.served_model import ServedModel
from sentiment_demo.feedback.store import UP, FeedbackError, FeedbackStore, Submission

WINDOW_SECONDS = 60.0
# Bounds the limiter's memory: the clients seen within the last minute, at most this many.
MAX_TRACKED_CLIENTS = 100_000


@dataclass(frozen=True)
class FeedbackLimits:
    """The limits on one record and on one client, each named by its setting in the messages."""

    max_text_chars: int
    max_note_chars: int
    per_minute: int


class RateLimiter:
    """At most `per_minute` events per client in any sliding minute; memory only, never stored."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        """Allow `per_minute` events per client; `clock` is injectable for tests."""
        self.per_minute = per_minute
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        """Count one event for `client`.

        Raises:
            FeedbackError: the client already sent `per_minute` events within the last minute.
        """
        now = self._clock()
        with self._lock:
            if len(self._seen) > MAX_TRACKED_CLIENTS:
                self._forget_before(now - WINDOW_SECONDS)
            times = self._seen.setdefault(client, deque())
            while times and times[0] <= now - WINDOW_SECONDS:
                times.popleft()
            if len(times) >= self.per_minute:
                wait = max(1, round(times[0] + WINDOW_SECONDS - now))
                raise FeedbackError(
                    f"Too much feedback from you at once: at most {self.per_minute} per minute "
                    f"(--feedback-per-minute). Please wait {wait} s."
                )
            times.append(now)

    def forget(self, client: str) -> None:
        """Start counting `client` afresh (after a successful sign-in)."""
        with self._lock:
            self._seen.pop(client, None)

    def _forget_before(self, cutoff: float) -> None:
        for client in [c for c, t in self._seen.items() if not t or t[-1] <= cutoff]:
            del self._seen[client]


def check_feedback(
    text: object, answer: object, note: object, labels: tuple[str, ...], limits: FeedbackLimits
) -> tuple[str, str, str]:
    """The text, answer and note, checked against the app's text limits and the model's labels.

    Raises:
        FeedbackError: an empty or over-long text, an unknown answer, or an over-long note.
    """
    problem = check_text(text, limits.max_text_chars)
    if problem is not None:
        raise FeedbackError(problem.message)
    answer = str(answer or "").strip()
    if answer != UP and answer not in labels:
        raise FeedbackError(
            f"The answer must be {UP!r} (the model is right) or one of the model's labels: "
            f"{', '.join(labels)}; got {answer[:40]!r}."
        )
    note = "" if note is None else str(note).strip()
    if check_text(note or "-", len(note) + 1) is not None:
        raise FeedbackError("The note is not valid Unicode; send it as proper UTF-8.")
    if len(note) > limits.max_note_chars:
        raise FeedbackError(
            f"The note is {len(note):,} characters; at most {limits.max_note_chars:,} are kept "
            "(--feedback-note-chars)."
        )
    return str(text), answer, note


def submission_for(
    model: ServedModel,
    revision: str,
    text: str,
    answer: str,
    note: str,
    session: str,
) -> Submission:
    """The record of a visitor's answer, with the model's prediction for the text computed now.

    Raises:
        FeedbackError: the model refused the text (its message says why).
    """
    outcome = model.classify([text])[0]
    if isinstance(outcome, Rejection):
        raise FeedbackError(outcome.message)
    assert isinstance(outcome, Prediction)
    return Submission(
        text=text,
        model=model.name,
        model_revision=revision,
        predicted=outcome.label,
        scores=tuple((s.label, round(s.score, 6)) for s in outcome.scores),
        answer=answer,
        note=note,
        session=session,
    )


def model_revision(info: ModelInfo) -> str:
    """Which version of a model answered: a hash of a local folder's files, a Hub commit, a version.

    A local folder: sha256 over config.json and the size and first MiB of each weights file, which
    change whenever the model is retrained. A Hub model: the commit of the cached snapshot.
    """
    if info.backend == "vader":
        try:
            return f"vaderSentiment {metadata.version('vaderSentiment')}"
        except metadata.PackageNotFoundError:
            return "vaderSentiment"
    folder = Path(info.model)
    if folder.is_dir():
        digest = hashlib.sha256()
        for path in sorted(folder.iterdir()):
            if path.name == "config.json":
                digest.update(path.read_bytes())
            elif path.suffix in {".safetensors", ".bin"}:
                digest.update(str(path.stat().st_size).encode())
                with path.open("rb") as handle:
                    digest.update(handle.read(2**20))
        return f"sha256:{digest.hexdigest()[:16]}"
    if "/" in info.model and not info.model.startswith(("http://", "https://")):
        return _hub_commit(info.model)
    return ""


def _hub_commit(repo_id: str) -> str:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return ""
    cached = try_to_load_from_cache(repo_id, "config.json")
    if isinstance(cached, str) and "/snapshots/" in cached:
        return "hub:" + cached.split("/snapshots/")[1].split("/")[0]
    return ""


class FeedbackCollector:
    """Takes feedback for the served models: checks, rate-limits, classifies, stores."""

    def __init__(
        self,
        store: FeedbackStore,
        models: Sequence[ServedModel],
        limits: FeedbackLimits,
        limiter: RateLimiter | None = None,
    ) -> None:
        """Collect into `store` for `models`; each model's revision is computed once, here."""
        self.store = store
        self.models = {model.name: model for model in models}
        self.revisions = {model.name: model_revision(model.info) for model in models}
        self.limits = limits
        self.limiter = limiter or RateLimiter(limits.per_minute)

    def submit(
        self, text: object, model: object, answer: object, note: object, session: str, client: str
    ) -> str:
        """Store one visitor's answer; returns the message to show them.

        Raises:
            FeedbackError: a limit is reached or the input is not acceptable (the message says which).
        """
        served = self.models.get(str(model or ""))
        if served is None:
            raise FeedbackError(
                f"Unknown model {str(model)[:80]!r}; this app serves {', '.join(self.models)}."
            )
        checked_text, checked_answer, checked_note = check_feedback(
            text, answer, note, served.labels, self.limits
        )
        self.limiter.check(client)
        submission = submission_for(
            served, self.revisions[served.name], checked_text, checked_answer, checked_note,
            session,
        )  # fmt: skip
        added = self.store.add(submission)
        if added.duplicate:
            return f"You already sent this answer (record {added.id}); it is counted once."
        said = (
            f"that **{submission.predicted}** is right"
            if checked_answer == UP
            else f"**{checked_answer}** (the model said {submission.predicted})"
        )
        return f"✅ Thank you: saved as record {added.id}, {said}."
