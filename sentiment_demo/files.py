"""The files the app writes, and how long they stay: nothing on disk grows without bound.

A results CSV must exist only until Gradio has copied it into its own cache, which it does right after
the handler returns: each write removes this app's CSVs older than a minute, and `close()` the folder.
Gradio's cache (its copies of downloads, and uploads) is swept by CacheSweeper: Gradio's own
`delete_cache` misses files that it copies for session-specific copies of a component, which is every
download here (seen on gradio 6.31: its sets of files to delete stayed empty). Stdlib and pandas.
"""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
import threading
import time
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
        return str(path)

    def write_json(self, data: object, stem: str) -> str:
        """Save `data` as indented UTF-8 JSON and return its path (for a gr.File output)."""
        self.sweep()
        path = Path(tempfile.mkdtemp(dir=self.folder)) / f"{stem}.json"
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
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
    """A daemon thread that removes files older than `lifetime` seconds from Gradio's cache folder.

    It runs every tenth of the lifetime. Folders left empty are removed one lifetime later, so a
    folder Gradio has just made for a new file is never taken from under it.
    """

    def __init__(self, folder: Path, lifetime: float) -> None:
        """Start sweeping `folder`."""
        self.folder = folder
        self.lifetime = lifetime
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cache-sweeper", daemon=True)
        self._thread.start()

    def sweep(self) -> int:
        """Remove what has outlived the lifetime now; returns how many files were removed."""
        cutoff = time.time() - self.lifetime
        removed = 0
        for path in sorted(self.folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            try:
                if path.is_file() and path.lstat().st_ctime < cutoff:
                    path.unlink()
                    removed += 1
                elif path.is_dir() and path.stat().st_mtime < cutoff and not any(path.iterdir()):
                    path.rmdir()
            except OSError:  # gone already, or in use: the next sweep tries again
                continue
        return removed

    def close(self) -> None:
        """Stop the thread."""
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(max(1.0, self.lifetime / 10)):
            self.sweep()
