"""JSON routes for programs, added to Gradio's FastAPI app: /predict, /healthz, /readyz, /metrics.

/predict follows text-embeddings-inference (TEI): {"inputs": str | [str], "truncate": bool, "raw_scores":
bool} gives every label with its score, highest first; limits answer 413/422 and overload 429, with TEI's
{"error", "error_type"} body. A request in the Hugging Face Inference API form (with a "parameters"
object, as huggingface_hub.InferenceClient sends) gets that API's nested answer. It shares the
BatchScheduler with the UI, so API and browser requests share forward passes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from sentiment_demo.config import Settings
from sentiment_demo.engine import LabelScore, Prediction, Rejection
from sentiment_demo.errors import OverloadedError
from sentiment_demo.loading import ModelInfo
from sentiment_demo.metrics import Metrics
from sentiment_demo.scheduler import BatchScheduler


@dataclass(frozen=True)
class ApiError(Exception):
    """An answer other than 200, in TEI's error format."""

    status: int
    error: str
    error_type: str = "Validation"

    def response(self) -> JSONResponse:
        """The JSON response for this error."""
        return JSONResponse({"error": self.error, "error_type": self.error_type}, self.status)


def parse_inputs(body: object, max_inputs: int) -> tuple[list[str], bool, bool, bool, int | None]:
    """Validate a /predict body: (texts, single, truncate, raw_scores, top_k); raises ApiError."""
    if not isinstance(body, dict) or "inputs" not in body:
        raise ApiError(422, 'expected a JSON object with "inputs": a string or a list of strings')
    inputs = body["inputs"]
    single = isinstance(inputs, str)
    texts = [inputs] if single else inputs
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise ApiError(
            422, '"inputs" must be a string or a list of strings (pairs are not supported)'
        )
    if not texts:
        raise ApiError(422, '"inputs" cannot be empty')
    if len(texts) > max_inputs:
        raise ApiError(413, f"batch size {len(texts)} > maximum allowed batch size {max_inputs}")
    for key in ("truncate", "raw_scores"):
        if not isinstance(body.get(key, False), bool):
            raise ApiError(422, f'"{key}" must be true or false')
    parameters = body.get("parameters")
    top_k = parameters.get("top_k") if isinstance(parameters, dict) else None
    if top_k is not None and (not isinstance(top_k, int) or top_k < 1):
        raise ApiError(422, '"parameters.top_k" must be a positive integer')
    return texts, single, body.get("truncate", False), body.get("raw_scores", False), top_k


def render_outcomes(
    outcomes: Sequence[Prediction | Rejection], truncate: bool, raw_scores: bool, top_k: int | None
) -> list[list[dict[str, Any]]]:
    """Each text's labels and scores, or the ApiError of the first text that cannot be answered."""
    rendered = []
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, Rejection):
            raise ApiError(413 if outcome.too_long else 422, f"input {index}: {outcome.message}")
        if outcome.truncated and not truncate:
            raise ApiError(
                413,
                f"input {index} has {outcome.num_tokens} tokens; the model reads at most "
                f'{outcome.kept_tokens}. Send "truncate": true to classify its beginning.',
            )
        scores: tuple[LabelScore, ...] = outcome.raw_scores if raw_scores else outcome.scores
        if raw_scores and not scores:
            raise ApiError(422, "this backend does not expose raw scores", "Backend")
        rendered.append([{"label": s.label, "score": s.score} for s in scores[:top_k]])
    return rendered


def _authorized(request: Request, credentials: list[tuple[str, str]] | None) -> bool:
    if not credentials:
        return True
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, password = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return any(
        secrets.compare_digest(user, u) and secrets.compare_digest(password, p)
        for u, p in credentials
    )


def add_api_routes(
    app: FastAPI,
    scheduler: BatchScheduler,
    metrics: Metrics,
    settings: Settings,
    info: ModelInfo,
    credentials: list[tuple[str, str]] | None = None,
) -> None:
    """Add the JSON routes; /predict and /metrics need HTTP Basic auth when the app has a login."""
    unauthorized = JSONResponse(
        {"error": "authentication required", "error_type": "Unauthorized"},
        401,
        headers={"WWW-Authenticate": 'Basic realm="sentiment"'},
    )

    @app.post("/predict")
    async def predict(request: Request) -> Response:
        if not _authorized(request, credentials):
            return unauthorized
        with metrics.track("predict") as outcome:
            try:
                try:
                    body = await request.json()
                except ValueError:
                    raise ApiError(422, "the body is not valid JSON") from None
                texts, single, truncate, raw, top_k = parse_inputs(body, settings.max_batch_rows)
                try:
                    future = scheduler.submit(texts)
                except OverloadedError as exc:
                    outcome["outcome"] = "overloaded"
                    raise ApiError(429, f"Model is overloaded: {exc}", "Overloaded") from None
                rendered = render_outcomes(await asyncio.wrap_future(future), truncate, raw, top_k)
            except ApiError as exc:
                if outcome["outcome"] == "ok":
                    outcome["outcome"] = "rejected"
                return exc.response()
        # TEI answers a single string with one list; the Inference API always nests.
        inference_api_form = isinstance(body, dict) and "parameters" in body
        return JSONResponse(rendered[0] if single and not inference_api_form else rendered)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> Response:
        if not scheduler.alive:
            return JSONResponse({"status": "not ready", "reason": "the model worker stopped"}, 503)
        return JSONResponse(
            {
                "status": "ready",
                "model": info.model,
                "device": info.device,
                "dtype": info.dtype,
                "forward": info.forward,
                "labels": list(info.labels),
                "warmed_up": settings.warmup,
            }
        )

    @app.get("/metrics")
    async def prometheus_metrics(request: Request) -> Response:
        if not _authorized(request, credentials):
            return unauthorized
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
