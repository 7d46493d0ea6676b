"""Splitting a text into sentences, each with its place in the text.

sentencex (Wikimedia's rule-based segmenter) does the sentence boundaries; this module adds what
reviews and tweets need on top: every line is its own unit (lists, "Pros:/Cons:" lines), and an emoji
that follows a full stop stays with the sentence before it. bench/segmenters.py measured the choice.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import sentencex

SEGMENTER = "sentencex"
_LINE = re.compile(r"[^\r\n]+")


@dataclass(frozen=True)
class Sentence:
    """One sentence: its text (without surrounding spaces) and where it sits in the document."""

    text: str
    start: int
    end: int


def split_sentences(text: str) -> list[Sentence]:
    """The sentences of a text, in order, with character offsets; none for a blank text."""
    sentences: list[Sentence] = []
    for line in _LINE.finditer(text):
        for piece in sentencex.get_sentence_boundaries("en", line.group()):
            start = line.start() + int(piece["start_index"])
            end = line.start() + int(piece["end_index"])
            raw = text[start:end]
            stripped = raw.strip()
            if not stripped:
                continue
            start += len(raw) - len(raw.lstrip())
            end = start + len(stripped)
            if sentences and _is_symbols(stripped):
                # "Love it! 😍 The screen..." - the emoji closes the sentence before it.
                last = sentences[-1]
                if last.end >= line.start():
                    sentences[-1] = Sentence(text[last.start : end], last.start, end)
                    continue
            leading = _leading_symbols(stripped)
            if leading and sentences and sentences[-1].end >= line.start():
                last = sentences[-1]
                cut = start + len(leading)
                sentences[-1] = Sentence(text[last.start : cut].rstrip(), last.start, cut)
                rest = text[cut:end]
                start = cut + len(rest) - len(rest.lstrip())
                stripped = text[start:end]
                if not stripped:
                    continue
            sentences.append(Sentence(stripped, start, end))
    return sentences


def _is_symbols(text: str) -> bool:
    """True for a piece made only of emoji and other symbols (no letter or digit)."""
    return all(not ch.isalnum() for ch in text) and any(_is_emoji(ch) for ch in text)


def _is_emoji(ch: str) -> bool:
    return unicodedata.category(ch) == "So"


def _leading_symbols(text: str) -> str:
    """Emoji (and the spaces between them) at the start of a piece, when words follow them."""
    end = 0
    for index, ch in enumerate(text):
        if _is_emoji(ch) or ch in "\u200d\ufe0f" or (ch.isspace() and end):
            end = index + 1
        else:
            break
    lead = text[:end]
    return lead.rstrip() if lead.strip() and text[end:].strip() else ""
