"""Temperature scaling: make a classifier's confidence mean what it says, in the weights themselves.

A temperature T is fitted on held-out logits (Guo et al., 2017), then the output layer's weight and bias
are divided by T, so every loader (the app, the transformers pipeline, the Hub widget) gets calibrated
scores with no extra code. Labels never change: dividing logits by T > 0 keeps their order.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The T in [0.05, 20] that minimises the negative log-likelihood of softmax(logits / T)."""

    def nll(log_t: float) -> float:
        scaled = log_softmax(logits / np.exp(log_t), axis=1)
        return float(-scaled[np.arange(len(labels)), labels].mean())

    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(result.x))


def output_layer(model: torch.nn.Module, num_labels: int) -> torch.nn.Linear:
    """The last linear layer with one output per label: the classification head's projection."""
    candidates = [
        module
        for module in model.modules()
        if isinstance(module, torch.nn.Linear) and module.out_features == num_labels
    ]
    if not candidates:
        raise ValueError(
            f"{type(model).__name__} has no linear layer with {num_labels} outputs to scale; "
            "train with --no-calibration"
        )
    return candidates[-1]


@torch.no_grad()
def apply_temperature(model: torch.nn.Module, num_labels: int, temperature: float) -> None:
    """Divide the output layer by `temperature`, so the model's logits are divided by it too."""
    layer = output_layer(model, num_labels)
    layer.weight.div_(temperature)
    if layer.bias is not None:
        layer.bias.div_(temperature)
