"""Tokenizing and batching shared by the model runtimes (torch, ONNX Runtime): truncation and groups.

Both runtimes read a text the same way: its full token count (for the truncation notice), its ids cut
at the model's limit, and length-sorted sub-batches within the batch-size and padded-token budgets.
Knows nothing about tensors or runtimes; returns plain lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from transformers import PreTrainedTokenizerBase

from sentiment_demo.core.classifier import LabelScore


@dataclass(frozen=True)
class Encoded:
    """Token ids of each text, cut at the limit, and how many tokens each had before the cut."""

    ids: list[list[int]]
    lengths: list[int]


def encode(tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], max_tokens: int) -> Encoded:
    """Token ids of every text; those over `max_tokens` are truncated by the tokenizer's own rule."""
    full_ids = tokenizer(list(texts), truncation=False, verbose=False)["input_ids"]
    lengths = [len(ids) for ids in full_ids]
    too_long = [i for i, n in enumerate(lengths) if n > max_tokens]
    if too_long:
        cut = tokenizer([texts[i] for i in too_long], truncation=True, max_length=max_tokens)[
            "input_ids"
        ]
        for i, ids in zip(too_long, cut, strict=True):
            full_ids[i] = ids
    return Encoded(full_ids, lengths)


def length_groups(
    ids: Sequence[Sequence[int]],
    max_batch_size: int,
    max_batch_tokens: int,
    max_padding: float | None = None,
) -> list[list[int]]:
    """Indices of `ids`, sorted by length and cut into sub-batches within both batch limits.

    With `max_padding`, a sub-batch is also cut before its padding would exceed that share of its
    real tokens: a runtime that pads (ONNX Runtime) computes every padded position.
    """
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    groups: list[list[int]] = []
    current: list[int] = []
    real = 0
    for i in order:
        length = len(ids[i])
        padded = (len(current) + 1) * length  # sorted ascending: i is the longest so far
        too_padded = max_padding is not None and padded > (real + length) * (1 + max_padding)
        if current and (len(current) >= max_batch_size or padded > max_batch_tokens or too_padded):
            groups.append(current)
            current, real = [], 0
        current.append(i)
        real += length
    if current:
        groups.append(current)
    return groups


def ranked(labels: Sequence[str], values: Sequence[float]) -> tuple[LabelScore, ...]:
    """Every label with its value, highest first."""
    pairs = (LabelScore(label, float(v)) for label, v in zip(labels, values, strict=True))
    return tuple(sorted(pairs, key=lambda item: item.score, reverse=True))
