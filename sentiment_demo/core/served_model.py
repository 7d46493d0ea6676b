"""One served model as the UI sees it: a display name, what was loaded, and its classify function.

Several can be served side by side (`--model A --model B --model vader`); each has its own engine,
scheduler and batches, and the first one is the default.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sentiment_demo.core.classifier import ModelInfo, Outcome
from sentiment_demo.errors import InputError

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


def choose_models(
    models: Sequence[ServedModel], names: Sequence[object] | None
) -> list[ServedModel]:
    """The served models `names` asks for, each once, in the order first named; the default if none.

    A name repeated runs once: forty copies of one name would do forty times the work and report
    that "the 40 models agree".

    Raises:
        InputError: a name that no served model has (the message lists the served ones).
    """
    by_name = {model.name: model for model in models}
    wanted = list(dict.fromkeys(str(name) for name in names or []))
    unknown = [name for name in wanted if name not in by_name]
    if unknown:
        raise InputError(
            f"No model named {', '.join(map(repr, unknown[:5]))}"
            f"{f' (and {len(unknown) - 5} more)' if len(unknown) > 5 else ''}; this app serves "
            f"{', '.join(map(repr, by_name))}."
        )
    return [by_name[name] for name in wanted] or [models[0]]
