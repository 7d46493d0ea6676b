"""The files the app writes for downloads: spreadsheet-safe CSVs in one folder that never grows without bound.

A results CSV must exist only until Gradio has copied it into its own cache, which it does right after
the handler returns; Gradio's cache is then swept by age (`delete_cache`, set in ui.py). Each write here
first removes this app's files older than a minute, and `close()` removes the folder. Stdlib and pandas.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
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
