"""Runs an upload reader in a child process with a time limit, so that no file can hold the server.

The child is a fresh interpreter: it reads and parses while the server waits without holding the
interpreter lock, and it is killed when the time is up. It knows nothing about file formats.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sentiment_demo.errors import InputError

P = ParamSpec("P")
T = TypeVar("T")

# The child learns the parent's import path first, so that it can then unpickle the reader (a
# module-level function, pickled by name) and its arguments. -I keeps the user's PYTHON* variables
# and site directory out of it.
_BOOT = (
    "import pickle, sys; sys.path[:] = pickle.load(sys.stdin.buffer); "
    "from sentiment_demo.inputs.parse_worker import serve; serve()"
)


def in_worker(
    seconds: float, name: str, read: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """`read(*args, **kwargs)` run in a child process that is killed after `seconds`.

    Args:
        seconds: the time limit (the --parse-seconds setting).
        name: the file's name, for the message when the time is up.
        read: a module-level function (it is sent to the child by name).
        *args: its arguments (picklable).
        **kwargs: its keyword arguments (picklable).

    Raises:
        InputError: the reader refused the file (its own message), or took longer than `seconds`.
        RuntimeError: the child failed in some other way (a bug, or it was killed from outside).
    """
    payload = pickle.dumps(sys.path) + pickle.dumps((read, args, kwargs))
    try:
        # communicate() waits in select() with the lock released, and run() kills the child and
        # reaps it when the time is up.
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-c", _BOOT],
            input=payload,
            capture_output=True,
            timeout=seconds,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise InputError(
            f"{name} took longer than {seconds:g} s to read (--parse-seconds), so reading it was "
            "stopped. Check that it is a plain text file of the kind this tab takes, or split it."
        ) from None
    if done.returncode != 0 or not done.stdout:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"reading {name} failed (exit code {done.returncode}): {tail[0]}")
    status, value = pickle.loads(done.stdout)
    if status == "refused":
        raise InputError(value)
    return value  # type: ignore[no-any-return]


def serve() -> None:
    """The child's side: read (reader, args, kwargs) from stdin, write ("ok" | "refused", value)."""
    read, args, kwargs = pickle.load(sys.stdin.buffer)
    try:
        answer: tuple[str, object] = ("ok", read(*args, **kwargs))
    except InputError as exc:
        answer = ("refused", str(exc))
    sys.stdout.buffer.write(pickle.dumps(answer))
    sys.stdout.flush()
