"""The owner's view of the feedback: counts, thumbs-up shares, a confusion table, and the exports.

Plain functions over FeedbackRecord lists, returning pandas tables and files; the Feedback tab shows
them and the tests check them without a server.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from sentiment_demo.feedback.store import COLUMNS, UP, FeedbackRecord
from sentiment_demo.files import spreadsheet_safe

EXPORTS = {"csv": ".csv", "jsonl": ".jsonl", "parquet": ".parquet"}
RECORD_COLUMNS = ("id", "status", "created_at", "model", "predicted", "answer", "label", "text",
                  "note")  # fmt: skip


def counts_line(records: Sequence[FeedbackRecord]) -> str:
    """One line: records, thumbs up, corrections, and how many are new, accepted or rejected."""
    if not records:
        return "No feedback yet."
    ups = sum(r.answer == UP for r in records)
    status = Counter(r.status for r in records)
    return (
        f"**{len(records):,}** records: {ups:,} 👍 (the model was right), "
        f"{len(records) - ups:,} corrections · {status['new']:,} new, "
        f"{status['accepted']:,} accepted, {status['rejected']:,} rejected."
    )


def thumbs_up_share(records: Sequence[FeedbackRecord]) -> pd.DataFrame:
    """Per model and predicted label: records, thumbs up, and the share of thumbs up in percent."""
    table = pd.DataFrame(
        [(r.model, r.predicted, r.answer == UP) for r in records],
        columns=["model", "predicted", "up"],
    )
    if table.empty:
        return pd.DataFrame(columns=["model", "predicted", "records", "👍", "👍 %"])
    grouped = table.groupby(["model", "predicted"], sort=True)["up"]
    summary = pd.DataFrame({"records": grouped.size(), "👍": grouped.sum()}).reset_index()
    summary["👍"] = summary["👍"].astype(int)
    summary["👍 %"] = (100 * summary["👍"] / summary["records"]).round(1)
    return summary


def confusion_table(records: Sequence[FeedbackRecord], model: str | None = None) -> pd.DataFrame:
    """Rows: the model's label; columns: the visitor's label; cells: how many records.

    With several models the rows are `model: label`, unless `model` picks one.
    """
    chosen = [r for r in records if model is None or r.model == model]
    several = len({r.model for r in chosen}) > 1
    rows = [(f"{r.model}: {r.predicted}" if several else r.predicted, r.label) for r in chosen]
    if not rows:
        return pd.DataFrame(columns=["model says ↓ / visitor says →"])
    table = pd.crosstab(
        pd.Series([a for a, _ in rows], name="model says ↓ / visitor says →"),
        pd.Series([b for _, b in rows], name="visitor"),
    )
    table.columns.name = None
    return table.reset_index()


def records_table(records: Sequence[FeedbackRecord]) -> pd.DataFrame:
    """The records as the tab lists them (the session hash and scores stay in the exports)."""
    return pd.DataFrame(
        [{c: getattr(r, c) for c in RECORD_COLUMNS} for r in records], columns=list(RECORD_COLUMNS)
    )


def export_table(records: Sequence[FeedbackRecord]) -> pd.DataFrame:
    """Every column of every record, oldest first: the dataset the exports and the Hub hold."""
    rows = [r.as_row() for r in sorted(records, key=lambda r: r.id)]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def write_export(records: Sequence[FeedbackRecord], kind: str, folder: Path) -> Path:
    """Write the records as CSV (spreadsheet-safe), JSON lines or Parquet into a new file in `folder`.

    Raises:
        ValueError: an unknown kind.
    """
    if kind not in EXPORTS:
        raise ValueError(f"export kind must be one of {', '.join(EXPORTS)}, not {kind!r}")
    table = export_table(records)
    path = Path(tempfile.mkdtemp(dir=folder)) / f"feedback{EXPORTS[kind]}"
    if kind == "csv":
        safe = table.copy()
        for column in safe.columns:
            if not pd.api.types.is_numeric_dtype(safe[column]):
                safe[column] = safe[column].map(spreadsheet_safe)
        safe.to_csv(path, index=False)
    elif kind == "jsonl":
        with path.open("w", encoding="utf-8") as handle:
            for row in table.to_dict(orient="records"):
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    else:
        table.to_parquet(path, index=False)
    return path


def parse_ids(value: str) -> list[int]:
    """Record ids typed by the owner: `3, 5-8 12` → [3, 5, 6, 7, 8, 12].

    Raises:
        ValueError: something that is not an id or a range, or a range over 10,000 ids.
    """
    ids: list[int] = []
    for part in value.replace(",", " ").split():
        first, dash, last = part.partition("-")
        if not first.isdigit() or (dash and not last.isdigit()):
            raise ValueError(f"{part!r} is not a record id or a range like 5-8")
        low, high = int(first), int(last) if dash else int(first)
        if high < low or high - low > 10_000:
            raise ValueError(f"{part!r}: a range goes up and holds at most 10,000 ids")
        ids += range(low, high + 1)
    return ids
