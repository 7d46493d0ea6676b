"""Exceptions of the sentiment demo.

SentimentError
├── InputError       the user can fix it; the message is written for them and names the limit
├── ModelLoadError   start-up could not load the model; the message names path, device and remedy
└── OverloadedError  too many requests are waiting; the caller should retry later
"""

from __future__ import annotations


class SentimentError(Exception):
    """Base class of every error this package raises on purpose."""


class InputError(SentimentError):
    """A request the user can correct (empty text, too long, too many rows, bad file)."""


class ModelLoadError(SentimentError):
    """The model could not be loaded or placed on the requested device."""


class OverloadedError(SentimentError):
    """Too many requests are already waiting for the model; the caller should retry later."""


def short_error(exc: BaseException) -> str:
    """`Type: first line of the message`, at most 200 characters: for users and one-line logs."""
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"
