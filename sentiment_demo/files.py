"""The files the app writes, and how long they stay: nothing on disk grows without bound.

A results CSV must exist only until Gradio has copied it into its own cache, which it does right after
the handler returns: each write removes this app's CSVs older than a minute, and `close()` the folder.
Gradio's cache (its copies of downloads, and uploads) is swept by CacheSweeper: Gradio's own
`delete_cache` misses files that it copies for session-specific copies of a component, which is every
download here (seen on gradio 6.31: its sets of files to delete stayed empty); it also keeps the
cache under a total size, removing the oldest files first. Stdlib and pandas.
"""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

# Gradio copies a returned file into its cache within milliseconds; a minute leaves a wide margin.
KEEP_SECONDS = 60
# A spreadsheet evaluates a cell that starts with one of these (OWASP, "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, prefixed with ' so it shows as text.

    This is OWASP's recommendation for CSV injection; numbers are left alone (a negative score is data).
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class ResultFiles:
    """Writes downloadable CSVs into a private temporary folder and removes them once served."""

    def __init__(self, keep_seconds: float = KEEP_SECONDS) -> None:
        """Create the folder; files older than `keep_seconds` are removed at the next write."""
        self.folder = Path(tempfile.mkdtemp(prefix="sentiment-results-"))
        self.keep_seconds = keep_seconds
        # Told the size of each file written (Gradio copies it into its cache, which is capped).
        self.on_write: Callable[[int], None] = lambda size: None

    def write_csv(self, table: pd.DataFrame, stem: str = "sentiment-results") -> str:
        """Save `table` as a spreadsheet-safe CSV and return its path (for a gr.File output)."""
        self.sweep()
        safe = table.copy()
        for column in safe.columns:
            if not pd.api.types.is_numeric_dtype(safe[column]):
                safe[column] = safe[column].map(spreadsheet_safe)
        request_folder = Path(tempfile.mkdtemp(dir=self.folder))
        path = request_folder / f"{stem}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            safe.to_csv(handle, index=False, quoting=csv.QUOTE_NONNUMERIC)
        self.on_write(path.stat().st_size)
        return str(path)

    def write_json(self, data: object, stem: str) -> str:
        """Save `data` as indented UTF-8 JSON and return its path (for a gr.File output)."""
        self.sweep()
        path = Path(tempfile.mkdtemp(dir=self.folder)) / f"{stem}.json"
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        self.on_write(path.stat().st_size)
        return str(path)

    def sweep(self) -> None:
        """Remove the request folders written more than `keep_seconds` ago."""
        cutoff = time.time() - self.keep_seconds
        for request_folder in self.folder.iterdir():
            try:
                if request_folder.stat().st_mtime < cutoff:
                    shutil.rmtree(request_folder, ignore_errors=True)
            except FileNotFoundError:
                continue

    def close(self) -> None:
        """Remove the folder and everything in it."""
        shutil.rmtree(self.folder, ignore_errors=True)


class CacheSweeper:
    """A daemon thread that keeps Gradio's cache folder within an age and a total size.

    Files older than `lifetime` seconds are removed; then, while the files left hold more than
    `max_bytes`, the oldest go first. It runs every tenth of the lifetime, and sooner once a tenth
    of `max_bytes` has been written since the last sweep (`note_written`, called for uploads and
    downloads). Folders left empty are removed one lifetime later, so a folder Gradio has just made
    for a new file is never taken from under it.
    """

    def __init__(self, folder: Path, lifetime: float, max_bytes: int | None = None) -> None:
        """Start sweeping `folder`."""
        self.folder = folder
        self.lifetime = lifetime
        self.max_bytes = max_bytes
        self._written = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cache-sweeper", daemon=True)
        self._thread.start()

    def note_written(self, size: int) -> None:
        """Count `size` bytes just stored; wake the sweeper when a tenth of the cap has come in."""
        with self._lock:
            self._written += size
            due = self.max_bytes is not None and self._written >= self.max_bytes // 10
        if due:
            self._wake.set()

    def sweep(self) -> int:
        """Remove what has outlived the lifetime, then the oldest past the size cap.

        Returns:
            How many files were removed.
        """
        with self._lock:
            self._written = 0
        cutoff = time.time() - self.lifetime
        removed = 0
        kept: list[tuple[float, int, Path]] = []
        for path in sorted(self.folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            try:
                if path.is_file():
                    stat = path.lstat()
                    if stat.st_ctime < cutoff:
                        path.unlink()
                        removed += 1
                    else:
                        kept.append((stat.st_ctime, stat.st_size, path))
                elif path.is_dir() and path.stat().st_mtime < cutoff and not any(path.iterdir()):
                    path.rmdir()
            except OSError:  # gone already, or in use: the next sweep tries again
                continue
        total = sum(size for _, size, _ in kept)
        for _, size, path in sorted(kept, key=lambda item: item[0]):
            if self.max_bytes is None or total <= self.max_bytes:
                break
            try:
                path.unlink()
            except OSError:
                continue
            total -= size
            removed += 1
        return removed

    def close(self) -> None:
        """Stop the thread."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(max(1.0, self.lifetime / 10))
            self._wake.clear()
            if self._stop.is_set():
                return
            self.sweep()
