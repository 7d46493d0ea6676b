"""One served model as the UI sees it: a display name, what was loaded, and its classify function.

Several can be served side by side (`--model A --model B --model vader`); each has its own engine,
scheduler and batches, and the first one is the default.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sentiment_demo.core.classifier import ModelInfo, Outcome

ClassifyFn = Callable[[Sequence[object]], list[Outcome]]


@dataclass(frozen=True)
class ServedModel:
    """A loaded model: `name` labels its columns and panels; `classify` goes through its scheduler."""

    name: str
    info: ModelInfo
    classify: ClassifyFn

    @property
    def labels(self) -> tuple[str, ...]:
        """The model's labels, in its own order."""
        return self.info.labels


def display_names(models: Sequence[str]) -> list[str]:
    """Short unique names: a local folder's name, a Hub id as it is, `vader`; repeats get #2, #3."""
    names: list[str] = []
    for model in models:
        base = Path(model).name if Path(model).is_dir() else model
        name, n = base, 1
        while name in names:
            n += 1
            name = f"{base} #{n}"
        names.append(name)
    return names
