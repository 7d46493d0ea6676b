"""Anyone's labelled texts → checked rows with a label set and a train / validation / test split.

Reads CSV, TSV, JSON lines and Parquet through `datasets`. Every problem a user can fix raises DataError
naming the file, the row or the column, and the fix; texts that cannot be used are dropped and counted.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from datasets import Dataset, load_dataset

READERS = {".csv": "csv", ".tsv": "csv", ".jsonl": "json", ".json": "json", ".parquet": "parquet"}
SPLITS = ("train", "validation", "test")
# Each label needs this many rows for a stratified 80/10/10 split to give it a row in every part.
MIN_ROWS_PER_LABEL = 10
# Messages list at most this many labels, then say how many more there are.
LISTED = 10


class DataError(ValueError):
    """Labelled data the recipe cannot use; the message says where and how to fix it."""


@dataclass
class LabelledRows:
    """Checked rows: text, label name, source, and (when given) the split each belongs to."""

    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    splits: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)

    def files_with(self, label: str) -> str:
        """The files that hold a label, for messages."""
        return ", ".join(
            dict.fromkeys(f for f, lab in zip(self.files, self.labels, strict=True) if lab == label)
        )


def read_file(
    path: Path,
    text_column: str,
    label_column: str,
    source_column: str | None = None,
    split_column: str | None = None,
    cache_dir: Path | None = None,
) -> LabelledRows:
    """Read one file; rows whose text is empty or not valid UTF-8 are dropped and counted.

    Raises:
        DataError: the file is missing, of an unknown kind, empty, unreadable, or lacks a named
            column, or a row has no label, a label that is not valid UTF-8, or an unknown split name.
    """
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise DataError(
            f"{path}: unknown file type {path.suffix!r}; use .csv, .tsv, .jsonl or .parquet"
        )
    _check_has_rows(path, kind)
    options: dict[str, object] = {}
    if kind == "csv":
        # Undecodable bytes become U+FFFD, so one bad row is dropped instead of the whole file failing.
        options = {"encoding_errors": "replace", "keep_default_na": False}
        if path.suffix.lower() == ".tsv":
            options["sep"] = "\t"
    elif kind == "json":
        options = {"encoding_errors": "replace"}
    try:
        table: Dataset = load_dataset(
            kind,
            data_files=str(path),
            split="train",
            cache_dir=str(cache_dir) if cache_dir else None,
            **options,
        )
    except Exception as exc:  # datasets raises many types for a malformed file
        raise DataError(f"{path}: could not be read as {kind} ({_first_line(exc)})") from exc
    columns = table.column_names
    for role, name in (
        ("--text-column", text_column),
        ("--label-column", label_column),
        ("--source-column", source_column),
        ("--split-column", split_column),
    ):
        if name is not None and name not in columns:
            raise DataError(
                f"{path}: no column {name!r} ({role}); the columns are {', '.join(map(repr, columns))}"
            )
    rows = LabelledRows()
    for number, row in enumerate(table, start=2 if kind == "csv" else 1):
        text = _as_text(row[text_column])
        label = _as_text(row[label_column]).strip()
        if not text.strip():
            rows.dropped["empty text"] += 1
            continue
        if "\ufffd" in text:
            rows.dropped["text not valid UTF-8"] += 1
            continue
        if not label:
            raise DataError(
                f"{path}, row {number}: no label in column {label_column!r}; label every row or "
                "remove it"
            )
        if "\ufffd" in label:
            # A replacement character is what an undecodable byte became: the label would be a new,
            # mangled class (Latin-1 "négatif" read as "n\ufffdgatif").
            raise DataError(
                f"{path}, row {number}: label {label!r} in column {label_column!r} is not valid "
                "UTF-8 (the file looks like Latin-1 or Windows-1252); save the file as UTF-8"
            )
        split = _as_text(row[split_column]).strip().lower() if split_column else ""
        if split_column and split not in SPLITS:
            raise DataError(
                f"{path}, row {number}: split {split!r} in column {split_column!r}; use one of "
                f"{', '.join(SPLITS)}"
            )
        rows.texts.append(text)
        rows.labels.append(label)
        rows.sources.append(_as_text(row[source_column]).strip() if source_column else path.stem)
        rows.splits.append(split)
        rows.files.append(str(path))
    if not rows.texts:
        raise DataError(f"{path}: no usable rows ({_dropped_summary(rows.dropped)})")
    return rows


def _check_has_rows(path: Path, kind: str) -> None:
    """Refuse an empty text file, or a CSV with a header and nothing under it, naming the file."""
    if kind == "parquet":
        return
    lines = 0
    with path.open("rb") as handle:
        for line in handle:
            lines += bool(line.strip())
            if lines >= 2:
                return
    if lines == 0:
        raise DataError(f"{path}: the file is empty; give a file with a header and labelled rows")
    if kind == "csv":
        raise DataError(
            f"{path}: only a header line, no rows under it; add labelled rows or drop the file"
        )


def read_files(
    paths: list[str],
    text_column: str,
    label_column: str,
    source_column: str | None = None,
    split_column: str | None = None,
    cache_dir: Path | None = None,
) -> LabelledRows:
    """Every file read with read_file, in order, as one set."""
    return combine(
        [
            read_file(Path(path), text_column, label_column, source_column, split_column, cache_dir)
            for path in paths
        ]
    )


def combine(parts: list[LabelledRows]) -> LabelledRows:
    """All files' rows in one set, their drop counts added up."""
    combined = LabelledRows()
    for part in parts:
        combined.texts += part.texts
        combined.labels += part.labels
        combined.sources += part.sources
        combined.splits += part.splits
        combined.files += part.files
        combined.dropped += part.dropped
    return combined


def listing(items: list[str], limit: int = LISTED) -> str:
    """Items for a message, at most `limit` of them and then how many more: bounded whatever the data."""
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit:,} more"


def remove_duplicates(rows: LabelledRows) -> int:
    """Drop every repeat of an earlier row's text and label (whatever its split); returns how many.

    A repeated row would otherwise land in train and test alike and inflate the test figures.
    """
    seen: set[tuple[str, str]] = set()
    keep = []
    for i, pair in enumerate(zip(rows.texts, rows.labels, strict=True)):
        if pair not in seen:
            seen.add(pair)
            keep.append(i)
    removed = len(rows.texts) - len(keep)
    for name in ("texts", "labels", "sources", "splits", "files"):
        column = getattr(rows, name)
        setattr(rows, name, [column[i] for i in keep])
    return removed


def label_key(label: str) -> str:
    """What a label looks like to a reader: NFKC, case folded, invisible characters and spacing gone."""
    visible = "".join(
        char for char in unicodedata.normalize("NFKC", label) if unicodedata.category(char) != "Cf"
    )
    return " ".join(visible.casefold().split())


def look_alike_labels(rows: LabelledRows, given: list[str] | None) -> dict[str, str]:
    """Each label spelt like another (`café` NFC/NFD, `Positive`, `positive\u200b`) → the one to keep.

    The spelling kept is the one in `given` (--labels), else the most frequent (the first seen on a
    tie). A group holding two names that `given` lists is left alone: the user asked for both.
    """
    counts = Counter(rows.labels)
    groups: dict[str, list[str]] = {}
    for label in counts:  # first-seen order
        groups.setdefault(label_key(label), []).append(label)
    chosen = set(given or [])
    merged: dict[str, str] = {}
    for spellings in groups.values():
        named = [s for s in spellings if s in chosen]
        if len(spellings) < 2 or len(named) > 1:
            continue
        keep = named[0] if named else max(spellings, key=lambda s: counts[s])
        merged.update({s: keep for s in spellings if s != keep})
    return merged


def rename_labels(rows: LabelledRows, renamed: dict[str, str]) -> None:
    """Replace each label found in `renamed` by its new name, in place."""
    rows.labels = [renamed.get(label, label) for label in rows.labels]


def label_names(rows: LabelledRows, given: list[str] | None) -> list[str]:
    """The label set: `given` in that order, else the data's labels sorted (numbers numerically).

    Raises:
        DataError: fewer than two labels, or data labels missing from `given`.
    """
    found = set(rows.labels)
    if given:
        unknown = sorted(found - set(given))
        if unknown:
            where = listing([f"{label!r} in {rows.files_with(label)}" for label in unknown])
            raise DataError(
                f"labels {listing([repr(label) for label in unknown])} are in the data but not in "
                f"--labels ({','.join(given)}): {where}; add them to --labels or remove those rows"
            )
        names = list(given)
    else:
        names = sorted(found, key=lambda name: (not _is_number(name), _number_or_zero(name), name))
    if len(names) < 2:
        raise DataError(
            f"only one label ({names[0]!r}) in {rows.files_with(names[0])}; a classifier needs at "
            "least two: add examples of another label"
        )
    return names


def assign_splits(rows: LabelledRows, seed: int) -> None:
    """Give every row without a split one: per source, stratified 80/10/10 by label, fixed seed.

    Raises:
        DataError: a label with too few rows to appear in every split.
    """
    if all(rows.splits):
        return
    counts = Counter(
        label for label, split in zip(rows.labels, rows.splits, strict=True) if not split
    )
    scarce = {label: n for label, n in counts.items() if n < MIN_ROWS_PER_LABEL}
    if scarce:
        listed = listing(
            [f"{label!r} ({n}, in {rows.files_with(label)})" for label, n in sorted(scarce.items())]
        )
        raise DataError(
            f"too few examples to split: {listed}; each label needs at least {MIN_ROWS_PER_LABEL} "
            "rows for train / validation / test. Add examples, merge the label into another, or "
            "give the split yourself with --split-column"
        )
    pending = [i for i, split in enumerate(rows.splits) if not split]
    # Each source is split on its own, so adding a source never moves another's rows between splits.
    for source in dict.fromkeys(rows.sources[i] for i in pending):
        members = [i for i in pending if rows.sources[i] == source]
        sizes = Counter(rows.labels[i] for i in members)
        # A label too rare in this source to stratify on is grouped with the other rare ones.
        strata = [
            rows.labels[i] if sizes[rows.labels[i]] >= MIN_ROWS_PER_LABEL else "\x1frare"
            for i in members
        ]
        if len(members) < MIN_ROWS_PER_LABEL:
            raise DataError(
                f"source {source!r} has {len(members)} rows, too few to split into train / "
                "validation / test; merge it with another source or give --split-column"
            )
        table = Dataset.from_dict({"row": members, "stratum": strata}).class_encode_column(
            "stratum"
        )
        stratify = "stratum" if len(set(strata)) > 1 else None
        first = table.train_test_split(test_size=0.2, stratify_by_column=stratify, seed=seed)
        second = first["test"].train_test_split(
            test_size=0.5, stratify_by_column=stratify, seed=seed
        )
        for name, part in (
            ("train", first["train"]),
            ("validation", second["train"]),
            ("test", second["test"]),
        ):
            for index in part["row"]:
                rows.splits[index] = name


def _as_text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _is_number(name: str) -> bool:
    try:
        float(name)
    except ValueError:
        return False
    return True


def _number_or_zero(name: str) -> float:
    return float(name) if _is_number(name) else 0.0


def _dropped_summary(dropped: Counter[str]) -> str:
    return ", ".join(f"{n} {why}" for why, n in dropped.items()) or "the file is empty"


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"
