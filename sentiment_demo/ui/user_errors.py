"""Every failure of one UI request shown as a message a person can act on (gr.Error), never an opaque one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import gradio as gr

from sentiment_demo.errors import InputError, OverloadedError
from sentiment_demo.ui.common import logger


@contextmanager
def user_facing_errors(title: str = "Cannot analyse this input") -> Iterator[None]:
    """Show every failure of one request as a message a person can act on, never an opaque one.

    Input errors show their own message; an overloaded model says "busy"; anything unexpected is
    logged with its traceback and shown as a short server error.
    """
    # The user's mistakes get one log line; only the app's own faults get a traceback.
    try:
        yield
    except gr.Error:
        raise
    except OverloadedError as exc:
        logger.info("busy: %s", exc)
        raise gr.Error(f"The server is busy: {exc}.", title="Busy", print_exception=False) from None
    except InputError as exc:
        logger.info("refused input: %s", exc)
        raise gr.Error(str(exc), title=title, print_exception=False) from None
    except Exception as exc:
        logger.exception("request failed")
        raise gr.Error(
            f"Something went wrong on the server ({type(exc).__name__}); it has been logged. "
            "Please try again in a moment.",
            title="Server error",
            print_exception=False,
        ) from None
