"""Where a transformers model's texts are truncated, and why: its position table, its tokenizer, --max-tokens."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

# Tokenizers that state no limit report transformers' VERY_LARGE_INTEGER (1e30); no real limit is this big.
UNSTATED_LIMIT = 10**9


# Used only for models with neither absolute positions nor a stated limit: a memory bound, not a cap.
FALLBACK_MAX_TOKENS = 512


@dataclass(frozen=True)
class PositionCapacity:
    """How many tokens a model's absolute position embeddings can number."""

    tokens: int
    rows: int
    reserved: int


def position_capacity(model: PreTrainedModel) -> PositionCapacity | None:
    """The tokens a model's learned absolute position table can hold, or None when it has none.

    RoBERTa-style models (RoBERTa, XLM-R, CamemBERT, Longformer, MPNet, ...) number positions from
    `padding_idx + 1`, so their table's first rows are never read as positions: 514 rows hold 512
    tokens. Models with rotary, relative or ALiBi positions have no such table and no such cap.
    """
    for name, module in model.named_modules():
        last = name.rsplit(".", 1)[-1]
        if isinstance(module, torch.nn.Embedding) and last in {
            "position_embeddings",
            "embed_positions",
            "wpe",
        }:
            offset = getattr(module, "offset", None)  # BART-style learned positions keep one
            if offset is None:
                offset = module.padding_idx + 1 if module.padding_idx is not None else 0
            return PositionCapacity(module.num_embeddings - offset, module.num_embeddings, offset)
    return None


def token_limit(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, requested: int
) -> tuple[int, str]:
    """Where texts are truncated, and why: the model's real capacity, the tokenizer's limit, --max-tokens.

    The tokenizer's `model_max_length` counts when it states one, but never above what the position
    embeddings hold (some tokenizers state more, or nothing at all). `requested` (--max-tokens, 0 for
    none) lowers the limit, and can raise it only for models without absolute positions.
    """
    capacity = position_capacity(model)
    stated = tokenizer.model_max_length if tokenizer.model_max_length < UNSTATED_LIMIT else None
    if capacity is not None:
        table = f"the position embeddings hold {capacity.tokens} tokens"
        if capacity.reserved:
            table += (
                f" ({capacity.rows} rows, the first {capacity.reserved} reserved: positions start "
                "after the padding index)"
            )
        if stated is None:
            natural, reason = capacity.tokens, f"{table}; the tokenizer states no limit"
        elif stated > capacity.tokens:
            natural = capacity.tokens
            reason = f"{table}; the tokenizer's model_max_length ({stated}) is more than that"
        else:
            natural, reason = stated, f"the tokenizer's model_max_length ({stated}); {table}"
    else:
        trained = getattr(model.config, "max_position_embeddings", None)
        absent = "the model has no absolute position embeddings, so this is a memory bound"
        if stated is not None:
            natural, reason = stated, f"the tokenizer's model_max_length ({stated}); {absent}"
        elif trained:
            natural = trained
            reason = f"max_position_embeddings ({trained}), the length it was trained for; {absent}"
        else:
            natural, reason = FALLBACK_MAX_TOKENS, f"a default of {FALLBACK_MAX_TOKENS}; {absent}"
    if not requested:
        return natural, reason
    if capacity is not None and requested > capacity.tokens:
        return (
            capacity.tokens,
            f"--max-tokens {requested} is more than the model can read: {reason}",
        )
    return requested, f"--max-tokens {requested} (without it: {natural}, from {reason})"
