"""The Behaviour tab's chart: each capability's failure rate, a bar per model, on an axis from 0 to 100%.

Every bar carries its rate; a capability a model could not be tested on says so instead of a bar.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no display on a server; must precede pyplot

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

from sentiment_demo.behaviour.scoring import BehaviourReport


def failure_rate_figure(report: BehaviourReport) -> Figure | None:
    """Horizontal bars: capabilities top to bottom in suite order, one bar per model."""
    models = [m for m in report.models if not m.untestable]
    names = report.capability_names
    if not models or not names:
        return None
    height = 0.8 / len(models)
    # The legend sits above the axes; Gradio's plot label covers the figure's top left corner.
    figure, axis = plt.subplots(
        # Narrow, so that on a phone the figure is shrunk little and its words stay readable.
        figsize=(5.2, 1.2 + 0.3 * len(names) * max(2, len(models))),
        layout="constrained",
    )
    engine = figure.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        engine.set(h_pad=0.45)
    for offset, behaviour in enumerate(models):
        ys, rates, labels = [], [], []
        for row, capability in enumerate(names):
            y = row + (offset - (len(models) - 1) / 2) * height
            result = behaviour.result(capability)
            rate = result.failure_rate if result else None
            if rate is None:
                axis.text(1, y, "not tested", va="center", fontsize=8, color="dimgrey")
                continue
            ys.append(y)
            rates.append(100 * rate)
            labels.append(f"{100 * rate:.0f}%")
        bars = axis.barh(ys, rates, height=height * 0.92, label=behaviour.model)
        axis.bar_label(bars, labels, padding=3, fontsize=9)
    axis.set_yticks(range(len(names)), names, fontsize=10)
    axis.invert_yaxis()  # the first capability on top, as in the table
    axis.set_xlim(0, 110)  # room for the label of a bar at 100%
    axis.set_xticks(range(0, 101, 20), [f"{tick}%" for tick in range(0, 101, 20)])
    axis.set_xlabel("failure rate (% of tested cases)", fontsize=10)
    axis.grid(axis="x", alpha=0.3)
    axis.legend(
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        ncol=min(3, len(models)),
        fontsize=9,
        frameon=False,
    )
    plt.close(figure)
    return figure
