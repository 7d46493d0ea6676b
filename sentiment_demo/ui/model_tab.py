"""The Model tab: a panel per served model (memory, labels, limits) and the settings they share."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import gradio as gr

from sentiment_demo.config import Settings
from sentiment_demo.core.classifier import ModelInfo
from sentiment_demo.core.schemes import SCHEME_DESCRIPTIONS, has_generic_names
from sentiment_demo.core.served_model import ServedModel
from sentiment_demo.core.text_kind import card_languages, language_name

FORWARD_WORDS = {
    "unpadded": "none: each text runs on its own tokens, so a short text batched with long ones "
    "costs no more than alone",
    "padded": "texts batched together are padded to the longest one",
}


def _bullets(rows: dict[str, str]) -> str:
    # A list, not a table: a two-column table squeezes its first column to a letter a line on a phone.
    return "\n".join(f"- **{name}**: {value}" for name, value in rows.items())


def languages_line(info: ModelInfo) -> str:
    """The languages the model reads, as its card states them (`language` in the front matter)."""
    if info.backend == "vader":
        return "English (VADER's word list and rules are English)"
    card = Path(info.model_card).read_text(encoding="utf-8") if info.model_card else None
    languages = card_languages(card)
    if not languages:
        return (
            "not stated (the model card has no `language`): no notice is shown for texts in "
            "other languages"
        )
    names = ", ".join(language_name(code) for code in languages)
    only = " only" if len(languages) == 1 else ""
    return (
        f"{names}{only}, as its model card states; a text in another language gets a notice "
        "that the answer may be wrong"
    )


def model_markdown(info: ModelInfo, settings: Settings) -> str:
    """One model's panel: what is loaded, where, its memory, labels and limits."""
    labels = ", ".join(f"`{label}`" for label in info.labels)
    if info.backend == "vader":
        return _bullets(
            {
                "Model": "VADER, a lexicon and rules (vaderSentiment 3.3.2, Hutto & Gilbert 2014)",
                "Languages": languages_line(info),
                "Labels": f"{labels}: compound score ≥ 0.05 positive, ≤ -0.05 negative, neutral "
                "between (the published thresholds)",
                "Scores": "not probabilities: Analyse and Compare show VADER's compound score "
                "(-1 to +1) and its label",
                "Memory": f"about {info.memory_bytes / 2**20:,.0f} MiB (its word lists)",
                "Longest accepted text": f"{settings.max_text_chars:,} characters, read whole",
            }
        )
    if info.backend == "remote":
        source = f"`{info.model}` (remote endpoint)"
    elif info.is_local:
        source = f"`{Path(info.model).name}` (local folder, embedded in this app)"
    else:
        source = f"[`{info.model}`](https://huggingface.co/{info.model}) (Hugging Face Hub)"
    if has_generic_names(info.labels):
        labels += (
            " (placeholders: this model's config has no label names. Set `id2label` in its "
            'config.json, e.g. `{"0": "negative", "1": "positive"}`, to show real names)'
        )
    measured_as = (
        "its ONNX file"
        if info.runtime == "onnx"
        else "the process grew by that much while loading it"
    )
    memory = (
        f"about {info.memory_bytes / 2**20:,.0f} MiB ({measured_as})"
        if info.memory_bytes
        else "not measured"
    )
    reason = info.max_tokens_reason or "as the backend reports"
    runtime = {"torch": "PyTorch", "onnx": "ONNX Runtime"}.get(
        info.runtime, info.runtime or "PyTorch"
    )
    return _bullets(
        {
            "Model": source,
            "Architecture": f"`{info.architecture}`" if info.architecture else "unknown",
            "Languages": languages_line(info),
            "Labels": labels,
            "Label scheme": SCHEME_DESCRIPTIONS[info.scheme],
            "Parameters": f"{info.num_parameters / 1e6:.1f} M",
            "Memory": memory,
            "Device": f"`{info.device}`",
            "Precision": f"`{info.dtype}`",
            "Runtime": f"{runtime} ({info.runtime_note})" if info.runtime_note else runtime,
            "Padding": FORWARD_WORDS.get(info.forward, info.forward),
            "CPU threads": str(info.num_threads),
            "Longest text the model reads": f"{info.max_tokens} tokens ({reason}); longer texts "
            "are truncated, with a notice",
            "Start-up": f"loaded in {info.load_seconds:.1f} s, warmed up in "
            f"{info.warmup_seconds:.1f} s",
        }
    )


def serving_markdown(settings: Settings, model_count: int) -> str:
    """The limits and batching every model shares."""
    each = " (each model has its own batches and queue)" if model_count > 1 else ""
    return _bullets(
        {
            "Longest accepted text": f"{settings.max_text_chars:,} characters",
            "Batching": f"up to {settings.max_batch_size} texts per forward pass, merged from "
            f"every caller{each}; the model waits {settings.batch_wait_ms:g} ms after a request "
            "for others to join",
            "Token budget": f"at most {settings.max_batch_tokens:,} padded tokens per forward pass",
            "Queue": f"at most {settings.queue_size} waiting requests in Gradio's queue, and "
            f"{settings.queue_texts:,} waiting texts each for browser users and API clients; "
            'beyond that the app answers "busy". Single texts go before batch jobs',
            "Batch tab": f"at most {settings.max_batch_rows:,} texts, uploads up to "
            f"{settings.max_upload_kb:,} KiB",
            "Evaluate tab": f"at most {settings.max_eval_rows:,} labelled rows per file",
        }
    )


def serve_another_markdown(models: Sequence[ServedModel]) -> str:
    """How to serve another model: the flag, the Space variable, and where to find models."""
    hub = [m.info.model for m in models if m.info.backend == "transformers" and not m.info.is_local]
    current = ", ".join(
        f"[`{m.info.model}`](https://huggingface.co/{m.info.model})"
        if m.info.model in hub
        else f"`{m.name}`"
        for m in models
    )
    return (
        f"This app serves {current}. To serve another model, start it with `--model`, naming a "
        "local folder, a Hugging Face Hub id, `vader` or the URL of a text-embeddings-inference "
        "server; repeat the flag to compare several, the first being the default:\n\n"
        "```\npython app.py --model OWNER/NAME --model vader\n```\n\n"
        "On a Hugging Face Space, set the Space variable `SENTIMENT_MODEL` instead (Settings → "
        "Variables and secrets; commas between several), then restart the Space. Any "
        "[text-classification model on the Hub]"
        "(https://huggingface.co/models?pipeline_tag=text-classification&sort=trending) "
        "works; for another language, pick one whose card lists it."
    )


def model_card_markdown(info: ModelInfo) -> str | None:
    """The model card of a local model, without its YAML front matter."""
    if info.model_card is None:
        return None
    text = Path(info.model_card).read_text(encoding="utf-8")
    return re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.DOTALL)


def build_model_tab(models: Sequence[ServedModel], settings: Settings) -> None:
    """One panel per model, the default first, then the shared serving settings."""
    with gr.Tab("Model"):
        for index, model in enumerate(models):
            role = " (default: Analyse tab and /predict)" if index == 0 and len(models) > 1 else ""
            gr.Markdown(f"### {model.name}{role}")
            gr.Markdown(
                model_markdown(model.info, settings),
                elem_id="model-info" if index == 0 else f"model-info-{index + 1}",
            )
            card = model_card_markdown(model.info)
            if card:
                with gr.Accordion(f"Model card of {model.name}", open=False):
                    gr.Markdown(
                        card,
                        elem_id="model-card" if index == 0 else f"model-card-{index + 1}",
                    )
        gr.Markdown("### Serve another model")
        gr.Markdown(serve_another_markdown(models), elem_id="model-serve-another")
        gr.Markdown("### Serving")
        gr.Markdown(serving_markdown(settings, len(models)), elem_id="serving-info")
