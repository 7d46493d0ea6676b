"""Tiny random sequence classifiers of the architecture families people serve for sentiment, built offline.

Each is saved like a Hub checkpoint (config.json, model.safetensors, tokenizer files) with the family's
own tokenizer class built from a 30-word vocabulary, and with the awkward settings Hub models have:
tokenizers that state no `model_max_length`, or one above what the model's positions hold, generic
LABEL_n names, multi-label and regression heads. The weights are random; the tests compare the app
with the transformers pipeline on the same folder, so they need no trained model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import TINY_WORDS as WORDS


@dataclass(frozen=True)
class TinySpec:
    """One family's tiny model: its config, its tokenizer and what the app should derive from them."""

    model_type: str
    labels: tuple[str, ...] | None  # None: no id2label, so transformers names them LABEL_n
    expected_max_tokens: int
    tokenizer_max_length: int | None = None  # None: the tokenizer states no limit
    num_labels: int = 0  # when labels is None
    problem_type: str | None = None
    scheme: str = "single_label"
    config: dict[str, Any] = field(default_factory=dict)


SPECS = {
    # The tokenizer states 512, more than 40 positions: the positions win.
    "bert": TinySpec("bert", ("negative", "neutral", "positive"), 40, tokenizer_max_length=512),
    "distilbert": TinySpec("distilbert", ("NEGATIVE", "POSITIVE"), 40),
    # RoBERTa numbers positions from padding_idx + 1 = 2: 42 rows hold 40 tokens. The app crashed here.
    "roberta": TinySpec(
        "roberta", ("negative", "neutral", "positive"), 40, config={"max_position_embeddings": 42}
    ),
    "xlm-roberta": TinySpec(
        "xlm-roberta",
        ("1 star", "2 stars", "3 stars", "4 stars", "5 stars"),
        40,
        tokenizer_max_length=514,
        config={"max_position_embeddings": 42},
    ),
    # DeBERTa-v3 style: relative positions only, so no cap; max_position_embeddings is the bound.
    "deberta-v2": TinySpec(
        "deberta-v2",
        None,
        48,
        num_labels=3,
        config={
            "position_biased_input": False,
            "relative_attention": True,
            "pos_att_type": ["p2c", "c2p"],
            "max_position_embeddings": 48,
        },
    ),
    "electra": TinySpec(
        "electra",
        ("anger", "joy", "optimism", "sadness"),
        32,
        tokenizer_max_length=32,
        problem_type="multi_label_classification",
        scheme="multi_label",
    ),
    "albert": TinySpec(
        "albert",
        ("stars",),
        40,
        problem_type="regression",
        scheme="regression",
        config={"embedding_size": 16},
    ),
    # Rotary positions: no cap; the tokenizer's 64 is the bound.
    "modernbert": TinySpec(
        "modernbert",
        ("negative", "positive"),
        64,
        tokenizer_max_length=64,
        config={
            "max_position_embeddings": 128,
            "global_attn_every_n_layers": 1,
            "local_attention": 16,
            "pad_token_id": 0,
            "cls_token_id": 2,
            "sep_token_id": 3,
            "bos_token_id": 2,
            "eos_token_id": 3,
        },
    ),
}


def _wordpiece_vocab() -> dict[str, int]:
    return {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS])}


def _unigram_vocab(specials: list[str]) -> list[tuple[str, float]]:
    return [(t, 0.0) for t in specials] + [("▁" + w, -1.0) for w in WORDS]


def _byte_level_bpe() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """A byte-level BPE vocabulary whose merges spell each word, with and without a leading space."""
    vocab = {t: i for i, t in enumerate(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])}
    merges: list[tuple[str, str]] = []
    for word in WORDS:
        for token in (word, "Ġ" + word):
            for char in token:
                vocab.setdefault(char, len(vocab))
            for end in range(2, len(token) + 1):
                pair = (token[: end - 1], token[end - 1])
                if token[:end] not in vocab:
                    merges.append(pair)
                    vocab[token[:end]] = len(vocab)
    return vocab, merges


def _word_level_fast(max_length: int | None) -> Any:
    """A tokenizer.json-only tokenizer, as many recent Hub models ship (ModernBERT's kind of specials)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = _wordpiece_vocab()
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    kwargs = {"model_max_length": max_length} if max_length else {}
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        **kwargs,
    )


def build_tokenizer(model_type: str, max_length: int | None) -> Any:
    """The family's own tokenizer class over the tiny vocabulary."""
    import transformers as tf

    kwargs: dict[str, Any] = {"model_max_length": max_length} if max_length else {}
    if model_type in {"bert", "distilbert", "electra"}:
        cls = {
            "bert": tf.BertTokenizer,
            "distilbert": tf.DistilBertTokenizer,
            "electra": tf.ElectraTokenizer,
        }[model_type]
        return cls(vocab=_wordpiece_vocab(), **kwargs)
    if model_type == "roberta":
        vocab, merges = _byte_level_bpe()
        return tf.RobertaTokenizer(vocab=vocab, merges=merges, **kwargs)
    if model_type == "xlm-roberta":
        return tf.XLMRobertaTokenizer(
            vocab=_unigram_vocab(["<s>", "<pad>", "</s>", "<unk>", "<mask>"]), **kwargs
        )
    if model_type == "deberta-v2":
        return tf.DebertaV2Tokenizer(
            vocab=_unigram_vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]), **kwargs
        )
    if model_type == "albert":
        return tf.AlbertTokenizer(
            vocab=_unigram_vocab(["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"]), **kwargs
        )
    if model_type == "modernbert":
        return _word_level_fast(max_length)
    raise ValueError(model_type)


def build_tiny_model(spec: TinySpec, folder: Path, seed: int = 0) -> Path:
    """Save a random 2-layer classifier of `spec`'s family, with its tokenizer, into `folder`."""
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification

    tokenizer = build_tokenizer(spec.model_type, spec.tokenizer_max_length)
    sizes: dict[str, Any] = {
        "vocab_size": len(tokenizer),
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "max_position_embeddings": 40,
        "pad_token_id": tokenizer.pad_token_id,
    }
    if spec.model_type == "distilbert":
        sizes |= {"dim": 32, "n_layers": 2, "n_heads": 2, "hidden_dim": 64}
    labels: dict[str, Any]
    if spec.labels is None:
        labels = {"num_labels": spec.num_labels}
    else:
        labels = {
            "id2label": dict(enumerate(spec.labels)),
            "label2id": {label: i for i, label in enumerate(spec.labels)},
        }
    config = AutoConfig.for_model(
        spec.model_type, **(sizes | spec.config), **labels, problem_type=spec.problem_type
    )
    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_config(config)
    model.config.architectures = [type(model).__name__]
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
