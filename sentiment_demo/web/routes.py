"""JSON routes for programs on Gradio's FastAPI app: /predict, /info, /health(z), /readyz, /metrics.

/predict, /info and /health follow text-embeddings-inference (TEI, its docs/openapi.json): {"inputs":
str | [str] | [[str]], "truncate": bool, "raw_scores": bool} gives every label with its score, highest
first; limits answer 413/422, a text the model raised on 424, and overload 429, with TEI's {"error",
"error_type"} body. A request in the Hugging Face Inference API form (with a "parameters" object, as
huggingface_hub.InferenceClient sends) gets that API's nested answer. Beyond TEI, an optional "model"
names any served model (the default model otherwise). It shares the BatchScheduler with the UI, so API
and browser requests share forward passes. The pydantic models below describe the bodies in
/openapi.json (and /docs); /predict still validates by hand, so that errors keep TEI's format.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, ConfigDict, Field, RootModel

from sentiment_demo import __version__
from sentiment_demo.config import Settings
from sentiment_demo.core.classifier import LabelScore, ModelInfo, Outcome, Prediction, Rejection
from sentiment_demo.core.metrics import Metrics
from sentiment_demo.core.scheduler import BatchScheduler
from sentiment_demo.errors import OverloadedError
from sentiment_demo.web.auth import CHALLENGE, UNAUTHORIZED_BODY, basic_auth_ok


class PredictRequest(BaseModel):
    """A /predict body: TEI's fields, the Inference API's, and the model to use."""

    model_config = ConfigDict(extra="allow")

    inputs: str | list[str] | list[list[str]] = Field(
        description="One text, a list of texts, or TEI's batch form [[text], ...]."
    )
    truncate: bool = Field(False, description="Classify the beginning of a text that is too long.")
    raw_scores: bool = Field(False, description="Logits instead of probabilities.")
    truncation_direction: Literal["right", "Right"] = "right"
    model: str | None = Field(
        None, description="A served model's name (see the Model tab); the default model if absent."
    )
    parameters: dict[str, Any] | None = Field(
        None, description="Hugging Face Inference API parameters (top_k); the answer is nested."
    )
    options: dict[str, Any] | None = Field(
        None, description="Hugging Face Inference API options (wait_for_model, ...): accepted."
    )


class LabelScoreBody(BaseModel):
    """One label and its score."""

    label: str
    score: float


class PredictResponse(RootModel[list[LabelScoreBody] | list[list[LabelScoreBody]]]):
    """Every label with its score, highest first: one list for one text, a list per text otherwise."""


class ErrorBody(BaseModel):
    """TEI's error body."""

    error: str
    error_type: Literal["Unhealthy", "Backend", "Overloaded", "Validation", "Tokenizer"]


class ClassifierType(BaseModel):
    """The model's labels both ways."""

    id2label: dict[str, str]
    label2id: dict[str, int]


class ModelType(BaseModel):
    """TEI's model type: a classifier here."""

    classifier: ClassifierType


class InfoResponse(BaseModel):
    """TEI's /info body, plus how to read the scores and the limits TEI does not have."""

    model_config = ConfigDict(protected_namespaces=())

    model_id: str
    model_sha: str | None
    model_dtype: str
    model_type: ModelType
    max_concurrent_requests: int
    max_input_length: int
    max_batch_tokens: int
    max_batch_requests: int | None
    max_client_batch_size: int
    auto_truncate: bool
    tokenization_workers: int
    version: str
    sha: str | None
    docker_label: str | None
    label_scheme: str
    max_input_length_reason: str
    max_input_characters: int
    served_models: list[str] = Field(description="Names /predict accepts in its model field.")


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorBody} for status in statuses}


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
    if isinstance(texts, list) and texts and all(isinstance(t, list) for t in texts):
        # TEI's batch form: one list per input, holding one text (or two, a pair).
        if not all(len(t) == 1 for t in texts):
            raise ApiError(
                422,
                '"inputs" items must each hold one text: sentence pairs are not supported by a '
                "sentiment model",
            )
        texts = [t[0] for t in texts]
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise ApiError(
            422, '"inputs" must be a string or a list of strings (pairs are not supported)'
        )
    direction = body.get("truncation_direction", "right")
    if not isinstance(direction, str) or direction.lower() != "right":
        raise ApiError(
            422, '"truncation_direction" must be "right": texts keep their beginning when truncated'
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
            if outcome.model_error:
                raise ApiError(424, f"input {index}: {outcome.message}", "Backend")
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


async def _unless_client_leaves(
    request: Request, future: Future[list[Outcome]]
) -> list[Outcome] | None:
    """The outcomes, or None when the client disconnects first.

    Then its work is cancelled, and the scheduler drops whatever of it has not reached the model.
    """
    result = asyncio.wrap_future(future)
    gone = asyncio.ensure_future(_disconnected(request))
    racing: set[asyncio.Future[Any]] = {result, gone}
    await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
    if result.done():
        gone.cancel()
        return result.result()
    result.cancel()  # cancels the scheduler's future too
    return None


async def _disconnected(request: Request) -> None:
    """Return when the client closes the connection (the body has been read already)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def public_model_id(info: ModelInfo) -> str:
    """The model's Hub id, or a local folder's name: never a path of this machine."""
    return Path(info.model).name if info.is_local else info.model


def tei_info(info: ModelInfo, settings: Settings) -> dict[str, Any]:
    """TEI's GET /info body for this model and these limits, plus the label scheme."""
    return {
        "model_id": public_model_id(info),
        "model_sha": None,
        "model_dtype": info.dtype,
        "model_type": {
            "classifier": {
                "id2label": {str(i): label for i, label in enumerate(info.labels)},
                "label2id": {label: i for i, label in enumerate(info.labels)},
            }
        },
        "max_concurrent_requests": settings.queue_size,
        "max_input_length": info.max_tokens,
        "max_batch_tokens": settings.max_batch_tokens,
        "max_batch_requests": None,
        "max_client_batch_size": settings.max_batch_rows,
        "auto_truncate": False,
        "tokenization_workers": 1,
        "version": __version__,
        "sha": None,
        "docker_label": None,
        # Beyond TEI: how to read the scores, and the limits TEI does not have.
        "label_scheme": info.scheme,
        "runtime": info.runtime or None,
        "runtime_note": info.runtime_note,
        "max_input_length_reason": info.max_tokens_reason,
        "max_input_characters": settings.max_text_chars,
    }


def _authorized(request: Request, credentials: list[tuple[str, str]] | None) -> bool:
    return basic_auth_ok(request.headers.get("authorization"), credentials)


def chosen_scheduler(
    body: object, default: BatchScheduler, served: dict[str, BatchScheduler]
) -> BatchScheduler:
    """The scheduler of the model a /predict body names in "model" (the default when absent)."""
    name = body.get("model") if isinstance(body, dict) else None
    if name is None:
        return default
    if not isinstance(name, str) or name not in served:
        raise ApiError(
            422,
            f'"model": no served model is named {_shortened(repr(name))}; this server serves '
            f"{', '.join(map(repr, served))}",
        )
    return served[name]


def add_api_routes(
    app: FastAPI,
    scheduler: BatchScheduler,
    metrics: Metrics,
    settings: Settings,
    info: ModelInfo,
    credentials: list[tuple[str, str]] | None = None,
    models: Sequence[tuple[str, BatchScheduler]] = (),
) -> None:
    """Add the JSON routes; /predict and /metrics need HTTP Basic auth when the app has a login.

    `models` are the served models by name, for /predict's "model" field (the first is the
    default, `scheduler`); without them only the default is served.
    """
    unauthorized = JSONResponse(UNAUTHORIZED_BODY, 401, headers={"WWW-Authenticate": CHALLENGE})
    served = dict(models) or {public_model_id(info): scheduler}

    @app.post(
        "/predict",
        summary="Classify one text or many (TEI-compatible)",
        response_model=PredictResponse,
        responses=_errors(413, 422, 424, 429),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": PredictRequest.model_json_schema()}},
            }
        },
    )
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
                model_scheduler = chosen_scheduler(body, scheduler, served)
                try:
                    future = model_scheduler.submit(texts, lane="api")
                except OverloadedError as exc:
                    outcome["outcome"] = "overloaded"
                    raise ApiError(429, f"Model is overloaded: {exc}", "Overloaded") from None
                outcomes = await _unless_client_leaves(request, future)
                if outcomes is None:
                    outcome["outcome"] = "gone"
                    return Response(status_code=499)  # nobody reads it; the work was dropped
                rendered = render_outcomes(outcomes, truncate, raw, top_k)
            except ApiError as exc:
                if outcome["outcome"] == "ok":
                    outcome["outcome"] = "failed" if exc.status == 424 else "rejected"
                return exc.response()
        # TEI answers a single string with one list; the Inference API always nests.
        inference_api_form = isinstance(body, dict) and "parameters" in body
        return JSONResponse(rendered[0] if single and not inference_api_form else rendered)

    def unhealthy_reason() -> str | None:
        if not scheduler.alive:
            return "the model worker stopped"
        return scheduler.engine.unhealthy_reason

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/health",
        summary="200 while the model answers (TEI-compatible)",
        responses={200: {"description": "The model answers; the body is empty."}, **_errors(503)},
    )
    async def health() -> Response:
        # TEI's health check: 200 while the model answers, 503 with the reason when it does not.
        reason = unhealthy_reason()
        if reason:
            return ApiError(503, reason, "Unhealthy").response()
        return Response(status_code=200)

    @app.get(
        "/info",
        summary="The default model and the limits (TEI-compatible)",
        response_model=InfoResponse,
    )
    async def model_info(request: Request) -> Response:
        if not _authorized(request, credentials):
            return unauthorized
        return JSONResponse(tei_info(info, settings) | {"served_models": list(served)})

    @app.get("/readyz")
    async def readyz() -> Response:
        reason = unhealthy_reason()
        if reason:
            return JSONResponse({"status": "not ready", "reason": reason}, 503)
        return JSONResponse(
            {
                "status": "ready",
                "model": public_model_id(info),
                "device": info.device,
                "dtype": info.dtype,
                "forward": info.forward,
                "labels": list(info.labels),
                "warmed_up": settings.warmup,
            }
        )

    @app.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses={
            200: {
                "description": "Prometheus text exposition format: requests by route and outcome, "
                "latency, batch sizes, queue depth, model failures.",
                "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
            }
        },
    )
    async def prometheus_metrics(request: Request) -> Response:
        if not _authorized(request, credentials):
            return unauthorized
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)


def _shortened(text: str, limit: int = 80) -> str:
    """A value quoted in an error, cut so that an error never echoes a huge request back."""
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text):,} characters)"
