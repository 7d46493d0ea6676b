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
