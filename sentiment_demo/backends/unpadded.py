"""An unpadded forward pass for BERT-family classifiers: the dense layers see real tokens only.

A server's batches mix short and long texts, and the padded forward spends much of its time on padding:
on random batches of review texts it ran at 0.6-0.7x the speed of length-sorted ones (bench/padding.py).
Here the texts of a batch are packed end to end, so every Linear, LayerNorm and GELU runs on exactly the
tokens that exist; only attention, a small share of the work, is scattered back into a padded
[batch, heads, length, length] layout with a key mask. The result equals the padded forward up to
rounding, and transformers_backend.py checks that on real texts before using it.

The packed token count is rounded up to a few fixed sizes (see `packed_rows`): oneDNN builds and keeps
kernels for every matrix shape it meets, so serving every possible count made the process grow by
hundreds of MiB over a few thousand requests. With rounded sizes the set of shapes, and memory, stay
bounded; the filler rows cost at most an eighth more work in the dense layers and are never read.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from transformers import PreTrainedModel


def packed_rows(tokens: int) -> int:
    """`tokens` rounded up to a multiple of 16, or of an eighth of its power of two when larger.

    About eight sizes per doubling: at most 12.5% of filler above 128 tokens, and 56 sizes up to 8,192.
    """
    step = max(16, 1 << max(0, tokens.bit_length() - 4))
    return -(-tokens // step) * step


class UnpaddedBertForward:
    """Logits of a BertForSequenceClassification model from unpadded token ids."""

    def __init__(self, model: PreTrainedModel) -> None:
        """Use `from_model`, which checks the architecture first."""
        self.model = model
        # Typed loosely by transformers (Tensor | Module); the layout is checked in from_model.
        self.bert: Any = model.bert
        self.classifier: Any = model.classifier
        config = model.config
        self.hidden = config.hidden_size
        self.heads = config.num_attention_heads
        self.head_dim = self.hidden // self.heads

    @classmethod
    def from_model(cls, model: PreTrainedModel) -> UnpaddedBertForward | None:
        """The unpadded forward for `model`, or None when it is not a plain BERT classifier."""
        config = model.config
        bert = getattr(model, "bert", None)
        plain_bert = (
            config.model_type == "bert"
            and bert is not None
            and getattr(bert, "pooler", None) is not None
            and hasattr(model, "classifier")
            and getattr(config, "position_embedding_type", "absolute") == "absolute"
            and not config.is_decoder
            and config.hidden_size % config.num_attention_heads == 0
        )
        return cls(model) if plain_bert else None

    def __call__(self, batch_ids: list[list[int]]) -> torch.Tensor:
        """Logits, one row per text, for texts given as lists of token ids (no padding)."""
        device = self.model.device
        lengths = torch.tensor([len(ids) for ids in batch_ids], device=device)
        batch, width = len(batch_ids), int(lengths.max())
        tokens = sum(len(ids) for ids in batch_ids)
        filler = packed_rows(tokens) - tokens
        token_ids = torch.tensor(
            [t for ids in batch_ids for t in ids] + [0] * filler, device=device
        )
        positions = torch.cat(
            [torch.arange(n, device=device) for n in lengths.tolist()]
            + [torch.zeros(filler, dtype=torch.long, device=device)]
        )
        rows = torch.repeat_interleave(torch.arange(batch, device=device), lengths)
        slots = rows * width + positions[:tokens]  # where each real token sits in a padded batch
        # Filler rows read slot 0 back after attention: finite values that nothing uses.
        gather_slots = torch.cat([slots, slots.new_zeros(filler)])
        key_mask = (torch.arange(width, device=device)[None, :] < lengths[:, None])[:, None, None]

        embeddings = self.bert.embeddings
        # BertEmbeddings' order of additions: in 16-bit precisions another order rounds differently.
        hidden = embeddings.LayerNorm(
            embeddings.word_embeddings(token_ids)
            + embeddings.token_type_embeddings(torch.zeros_like(positions))
            + embeddings.position_embeddings(positions)
        )
        for layer in self.bert.encoder.layer:
            attention = layer.attention
            query, key, value = (
                self._padded(projection(hidden)[:tokens], slots, batch, width)
                for projection in (attention.self.query, attention.self.key, attention.self.value)
            )
            context = F.scaled_dot_product_attention(query, key, value, attn_mask=key_mask)
            context = context.transpose(1, 2).reshape(batch * width, self.hidden)[gather_slots]
            hidden = attention.output.LayerNorm(attention.output.dense(context) + hidden)
            hidden = layer.output.LayerNorm(layer.output.dense(layer.intermediate(hidden)) + hidden)
        first_tokens = torch.cumsum(lengths, 0) - lengths  # [CLS] of each text
        pooled = self.bert.pooler(hidden[first_tokens][:, None, :])
        logits: torch.Tensor = self.classifier(pooled)
        return logits

    def _padded(
        self, packed: torch.Tensor, slots: torch.Tensor, batch: int, width: int
    ) -> torch.Tensor:
        """[tokens, hidden] → [batch, heads, width, head_dim], zeros where there is no token."""
        padded = packed.new_zeros(batch * width, self.hidden)
        padded[slots] = packed
        return padded.view(batch, width, self.heads, self.head_dim).transpose(1, 2)
