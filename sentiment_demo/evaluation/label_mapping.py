"""Maps the label values of a user's file to each model's labels, for the Evaluate tab.

A value maps to a model label of the same name (case-insensitive); presets cover common codings
(0/1, pos/neg, 1-5 stars, -1/0/1). A value that maps to nothing is left out of that model's figures and
counted, never silently dropped. It knows nothing about models beyond their label names.
"""

from __future__ import annotations

from collections.abc import Sequence

AUTOMATIC = "match by name"
# Each preset names the sentiment each file value stands for; the name is then matched to each model.
PRESETS: dict[str, dict[str, str]] = {
    AUTOMATIC: {},
    "0 / 1 = negative / positive": {"0": "negative", "1": "positive"},
    "0 / 1 / 2 = negative / neutral / positive": {"0": "negative", "1": "neutral", "2": "positive"},
    "-1 / 0 / 1 = negative / neutral / positive": {
        "-1": "negative",
        "0": "neutral",
        "1": "positive",
    },
    "neg / neu / pos": {"neg": "negative", "neu": "neutral", "pos": "positive"},
    "1-5 stars (1-2 negative, 3 neutral, 4-5 positive)": {
        "1": "negative",
        "2": "negative",
        "3": "neutral",
        "4": "positive",
        "5": "positive",
    },
    "1-5 stars, no neutral (1-2 negative, 4-5 positive)": {
        "1": "negative",
        "2": "negative",
        "4": "positive",
        "5": "positive",
    },
}
# What each preset's values look like, for the suggestion when nothing maps.
PRESET_LOOKS = {
    "0 / 1 = negative / positive": "0/1 codes",
    "0 / 1 / 2 = negative / neutral / positive": "0/1/2 codes",
    "-1 / 0 / 1 = negative / neutral / positive": "-1/0/1 codes",
    "neg / neu / pos": "neg/neu/pos",
    "1-5 stars (1-2 negative, 3 neutral, 4-5 positive)": "1-5 stars",
    "1-5 stars, no neutral (1-2 negative, 4-5 positive)": "1-5 stars",
}
# Common synonyms, so that "pos" or "Positive" in a file finds a model's "positive" by name.
SYNONYMS = {
    "pos": "positive",
    "neg": "negative",
    "neu": "neutral",
    "fresh": "positive",
    "rotten": "negative",
    "good": "positive",
    "bad": "negative",
}


def _normalise(value: str) -> str:
    text = value.strip().lower()
    try:  # "1.0" in a file means the same as "1"
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


def map_value(value: str, model_labels: Sequence[str], preset: str = AUTOMATIC) -> str:
    """The model label a file value stands for, or "" when it matches none."""
    key = _normalise(value)
    by_name = {label.lower(): label for label in model_labels}
    if key in by_name:
        return by_name[key]
    named = PRESETS.get(preset, {}).get(key) or SYNONYMS.get(key, "")
    return by_name.get(named.lower(), "") if named else ""


def mapping_table(
    values: Sequence[tuple[str, int]],
    models: Sequence[tuple[str, Sequence[str]]],
    preset: str = AUTOMATIC,
) -> list[list[object]]:
    """Rows of [file value, rows with it, then one model label per model ("" for unmapped)]."""
    return [
        [value, count, *(map_value(value, labels, preset) for _, labels in models)]
        for value, count in values
    ]


def _shown(values: Sequence[str], limit: int = 5) -> str:
    more = f" (and {len(values) - limit} more)" if len(values) > limit else ""
    return ", ".join(repr(v[:40] + "…" if len(v) > 40 else v) for v in values[:limit]) + more


def _file_values_of(value: str, file_values: Sequence[str] | None) -> list[str]:
    """The file values a mapping row stands for: the one equal to it, else those equal ignoring case."""
    if file_values is None or value in file_values:
        return [value]
    return [v for v in file_values if v.casefold() == value.casefold()]


def read_mapping(
    rows: Sequence[Sequence[object]],
    model_names: Sequence[str],
    model_labels: Sequence[Sequence[str]],
    file_values: Sequence[str] | None = None,
) -> dict[str, dict[str, str]]:
    """{model name: {file value: model label}} from an edited mapping table.

    A row's value is matched to the file's values as the model labels are: exactly, else ignoring
    case (so "POS" maps a file's "pos"). With `file_values`, every row must name a value of the file.

    Raises:
        ValueError: a cell names a label the model does not have (the message lists its labels), a
            row names a value the file does not have, or two rows send one value to different labels.
    """
    mapping: dict[str, dict[str, str]] = {name: {} for name in model_names}
    absent: list[str] = []
    for row in rows:
        value = str(row[0]).strip()
        targets = _file_values_of(value, file_values)
        if not targets:
            absent.append(value)
            continue
        for offset, (name, labels) in enumerate(zip(model_names, model_labels, strict=True)):
            cell = row[2 + offset] if len(row) > 2 + offset else ""
            target = "" if cell is None else str(cell).strip()
            if not target:
                continue
            matched = {label.lower(): label for label in labels}.get(target.lower())
            if matched is None:
                raise ValueError(
                    f"the mapping sends {value!r} to {target!r} for {name}, which has no such "
                    f"label; its labels are {', '.join(labels)} (leave the cell empty to skip it)"
                )
            for file_value in targets:
                earlier = mapping[name].get(file_value)
                if earlier is not None and earlier != matched:
                    raise ValueError(
                        f"two rows map the value {file_value!r} for {name}: one to {earlier!r}, "
                        f"one to {matched!r}; keep one row per value"
                    )
                mapping[name][file_value] = matched
    if absent:
        raise ValueError(
            f"the mapping names {_shown(absent)}, which the label column does not hold; its "
            f"values are {_shown(list(file_values or []), 10)}"
        )
    return mapping


def suggest_preset(values: Sequence[str]) -> tuple[str, str] | None:
    """The label coding whose values cover every distinct file value, and what they look like.

    Star ratings (values from 1 to 5, with a 4 or a 5 among them) suggest the 1-5 stars coding;
    otherwise the first preset that knows every value. None when no preset covers them, or when the
    values already match by name.
    """
    keys = {_normalise(value) for value in values if value.strip()}
    if not keys or keys <= set(SYNONYMS) | {"positive", "negative", "neutral"}:
        return None
    stars = "1-5 stars (1-2 negative, 3 neutral, 4-5 positive)"
    if keys <= set(PRESETS[stars]) and keys & {"4", "5"}:
        return stars, PRESET_LOOKS[stars]
    for preset, coding in PRESETS.items():
        if preset != AUTOMATIC and keys <= set(coding):
            return preset, PRESET_LOOKS[preset]
    return None
