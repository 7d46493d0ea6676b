"""Give a WordPiece model eyes for emoji: one new token per emoji its vocabulary reads as [UNK].

all-MiniLM-L6-v2's vocabulary has no emoji: "the flight 😊🎉" and "the app 😤💩" both read as
"the flight [UNK]", so no amount of training teaches it that 😊 is happy. `add_emoji_tokens` adds
every single-character emoji (from the `emoji` package's table) that the tokenizer cannot read as its
own token, and starts each new embedding at the mean embedding of the emoji's English name
("smiling face with smiling eyes"), so an emoji the training data never shows still begins near the
words that describe it. The tokens are saved in tokenizer.json, so serving needs nothing extra.
"""

from __future__ import annotations

import torch
from tokenizers import AddedToken
from transformers import PreTrainedModel, PreTrainedTokenizerBase

VARIATION_SELECTOR = "\ufe0f"  # "❤️" is "❤" plus this; the BERT normalizer strips it


def emoji_names() -> dict[str, str]:
    """Each single-character emoji and its English name, from the `emoji` package."""
    import emoji  # a recipe dependency (requirements-data.txt), not the app's

    names = {}
    for symbol, data in emoji.EMOJI_DATA.items():
        bare = symbol.replace(VARIATION_SELECTOR, "")
        if len(bare) == 1:
            names[bare] = data["en"].strip(":").replace("_", " ")
    return names


def add_emoji_tokens(tokenizer: PreTrainedTokenizerBase, model: PreTrainedModel) -> int:
    """Add a token for each emoji the tokenizer reads as unknown; returns how many were added."""
    unknown = tokenizer.unk_token_id
    names = {
        symbol: name
        for symbol, name in emoji_names().items()
        if tokenizer(symbol, add_special_tokens=False)["input_ids"] in ([unknown], [])
    }
    if not names:
        return 0
    symbols = sorted(names)
    # Not normalized: matched in the raw text before the BERT normalizer could strip or split them.
    tokenizer.add_tokens([AddedToken(s, normalized=False) for s in symbols])
    embeddings = model.get_input_embeddings()
    old = embeddings.weight.detach().clone()
    model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    with torch.no_grad():
        weight = model.get_input_embeddings().weight
        for symbol in symbols:
            pieces = tokenizer(names[symbol], add_special_tokens=False)["input_ids"]
            known = [p for p in pieces if p < old.shape[0] and p != unknown]
            if known:
                weight[tokenizer.convert_tokens_to_ids(symbol)] = old[known].mean(dim=0)
    return len(symbols)
