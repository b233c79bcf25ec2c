"""Training losses and the predictions that go with them.

- ``cross_entropy``: softmax cross-entropy on integer labels, mean over the batch (Secs. 3-6).
- ``unhinged`` (van Rooyen et al., 2015; Sec. 7): l(yhat, y) = -y * yhat / 2 with y in {+1, -1}, mean
  over the batch, so its gradient in yhat is -y/2 (App. A, eq. 8). The model has a single output.
  The integer training labels map as 0 -> y = +1 and 1 -> y = -1 (``theory_clusters`` gives +1 to
  clusters 1-2, which carry label 0), and the prediction is 0 when the output is >= 0, else 1.

Both compute in float32 even under bf16 autocast (cross_entropy is autocast to float32 by torch; the
unhinged loss casts bf16/fp16 outputs to float32 itself; float64 stays float64).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = ["LOSSES", "Loss", "cross_entropy", "unhinged", "get_loss", "predict", "num_outputs"]


def _check_target(output: torch.Tensor, target: torch.Tensor, loss: str) -> None:
    if not isinstance(output, torch.Tensor) or not isinstance(target, torch.Tensor):
        raise ValueError(f"{loss}: output and target must be torch tensors.")
    if target.dim() != 1 or target.dtype.is_floating_point or target.dtype == torch.bool:
        raise ValueError(
            f"{loss}: target must be a 1-D tensor of integer class labels; got dtype {target.dtype} "
            f"and shape {tuple(target.shape)}."
        )
    if output.shape[0] != target.shape[0]:
        raise ValueError(
            f"{loss}: output has {output.shape[0]} rows but target has {target.shape[0]} labels; "
            "they must match."
        )


def _single_output(output: torch.Tensor, loss: str) -> torch.Tensor:
    """Return the outputs of a one-output model as a 1-D tensor, or raise ValueError."""
    if output.dim() == 2 and output.shape[1] == 1:
        return output[:, 0]
    if output.dim() == 1:
        return output
    raise ValueError(
        f"{loss}: the model must have a single output (shape (batch,) or (batch, 1)); got output of "
        f"shape {tuple(output.shape)}. Build the model with num_outputs('unhinged', 2) = 1 outputs "
        "(theory_net always has one)."
    )


def cross_entropy(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean softmax cross-entropy of logits (batch, C), C >= 2, against integer labels in [0, C)."""
    _check_target(output, target, "cross_entropy")
    if output.dim() != 2 or output.shape[1] < 2:
        raise ValueError(
            "cross_entropy: logits must have shape (batch, num_classes) with num_classes >= 2 "
            f"(with one output the loss is identically 0); got shape {tuple(output.shape)}."
        )
    return F.cross_entropy(output, target)


def unhinged(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean unhinged loss -y * f / 2 with y = +1 for label 0 and y = -1 for label 1 (Sec. 7).

    Checks that every label is 0 or 1 (one host sync per call: this loss is used in the small
    theory setting, where that costs nothing).
    """
    _check_target(output, target, "unhinged")
    f = _single_output(output, "unhinged")
    f = f.to(torch.promote_types(f.dtype, torch.float32))  # bf16/fp16 -> float32; float64 stays
    if bool(((target != 0) & (target != 1)).any()):
        raise ValueError(
            "unhinged: labels must be 0 or 1 (mapped to y = +1 and y = -1); got values "
            f"{sorted(torch.unique(target).tolist())[:10]}."
        )
    y = 1.0 - 2.0 * target.to(f.dtype)
    return (-y * f / 2.0).mean()


@dataclass(frozen=True)
class Loss:
    """A training loss: ``loss(output, target) -> scalar`` and ``loss.predict(output) -> labels``."""

    name: str
    function: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

    def __call__(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.function(output, target)

    def predict(self, output: torch.Tensor) -> torch.Tensor:
        return predict(output, self.name)

    def num_outputs(self, num_classes: int) -> int:
        return num_outputs(self.name, num_classes)


LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "cross_entropy": cross_entropy,
    "unhinged": unhinged,
}


def _check_name(name: object) -> str:
    if not isinstance(name, str) or name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; valid losses: {', '.join(LOSSES)}.")
    return name


def num_outputs(loss_name: str, num_classes: int) -> int:
    """Width of the model's output for this loss: num_classes (>= 2) for cross_entropy, and 1 for
    unhinged, which only takes binary tasks (num_classes == 2)."""
    name = _check_name(loss_name)
    if name == "unhinged":
        if num_classes != 2:
            raise ValueError(
                f"the unhinged loss is for binary labels (0 -> +1, 1 -> -1) and a single output; "
                f"got num_classes={num_classes}."
            )
        return 1
    if num_classes < 2:
        raise ValueError(f"cross_entropy needs num_classes >= 2; got {num_classes}.")
    return num_classes


def get_loss(name: str, *, num_outputs: int | None = None) -> Loss:
    """Return the loss ``name`` ('cross_entropy' or 'unhinged').

    Pass ``num_outputs`` (the model's output width, e.g. ``model.head.out_features``) to fail early
    when the model does not fit the loss: unhinged needs exactly 1 output, cross_entropy at least 2.
    """
    name = _check_name(name)
    if num_outputs is not None:
        if name == "unhinged" and num_outputs != 1:
            raise ValueError(
                f"the unhinged loss needs a model with a single output; this model has {num_outputs}. "
                "Use theory_net, or build the model with num_classes=1."
            )
        if name == "cross_entropy" and num_outputs < 2:
            raise ValueError(
                f"cross_entropy needs a model with at least 2 outputs; this model has {num_outputs}."
            )
    return Loss(name, LOSSES[name])


def predict(logits: torch.Tensor, loss_name: str) -> torch.Tensor:
    """Integer class predictions consistent with the loss: argmax over classes for cross_entropy;
    for unhinged, 0 where the output is >= 0 (y = +1) and 1 otherwise. Returns a 1-D int64 tensor."""
    name = _check_name(loss_name)
    if not isinstance(logits, torch.Tensor):
        raise ValueError(f"predict: logits must be a torch tensor; got {type(logits).__name__}.")
    if name == "unhinged":
        return (_single_output(logits, "unhinged") < 0).long()
    if logits.dim() != 2:
        raise ValueError(f"predict: cross_entropy logits must have shape (batch, num_classes); got {tuple(logits.shape)}.")
    return logits.argmax(dim=1)
