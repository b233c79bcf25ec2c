"""Training losses and the predictions that go with them: one `Loss` descriptor each, in LOSSES.

- ``cross_entropy``: softmax cross-entropy on integer labels, mean over the batch (Secs. 3-6).
- ``unhinged`` (van Rooyen et al., 2015; Sec. 7): l(yhat, y) = -y * yhat / 2 with y in {+1, -1}, mean
  over the batch, so its gradient in yhat is -y/2 (App. A, eq. 8). The model has a single output.
  The integer training labels map as 0 -> y = +1 and 1 -> y = -1 (``theory_clusters`` gives +1 to
  clusters 1-2, which carry label 0), and the prediction is 0 when the output is >= 0, else 1.

Both compute in float32 even under bf16 autocast (cross_entropy is autocast to float32 by torch; the
unhinged loss casts bf16/fp16 outputs to float32 itself; float64 stays float64).

A new loss is one module that defines its functions and calls ``register(Loss(...))``; a RunSpec can
also name one by import path, "package.module:NAME". torch is imported when a loss runs, not when the
registry is read (a RunSpec is checked against it where nothing trains).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import registry
from .errors import UnknownNameError

if TYPE_CHECKING:
    import torch

__all__ = ["LOSSES", "Loss", "cross_entropy", "unhinged", "get_loss", "predict", "num_outputs", "register"]


def _check_target(output: "torch.Tensor", target: "torch.Tensor", loss: str) -> None:
    import torch

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


def _single_output(output: "torch.Tensor", loss: str) -> "torch.Tensor":
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


def cross_entropy(output: "torch.Tensor", target: "torch.Tensor") -> "torch.Tensor":
    """Mean softmax cross-entropy of logits (batch, C), C >= 2, against integer labels in [0, C)."""
    import torch.nn.functional as F

    _check_target(output, target, "cross_entropy")
    if output.dim() != 2 or output.shape[1] < 2:
        raise ValueError(
            "cross_entropy: logits must have shape (batch, num_classes) with num_classes >= 2 "
            f"(with one output the loss is identically 0); got shape {tuple(output.shape)}."
        )
    return F.cross_entropy(output, target)


def unhinged(output: "torch.Tensor", target: "torch.Tensor") -> "torch.Tensor":
    """Mean unhinged loss -y * f / 2 with y = +1 for label 0 and y = -1 for label 1 (Sec. 7).

    Checks that every label is 0 or 1 (one host sync per call: this loss is used in the small
    theory setting, where that costs nothing).
    """
    import torch

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


def _argmax(logits: "torch.Tensor") -> "torch.Tensor":
    if logits.dim() != 2:
        raise ValueError(f"predict: cross_entropy logits must have shape (batch, num_classes); got {tuple(logits.shape)}.")
    return logits.argmax(dim=1)


def _sign(output: "torch.Tensor") -> "torch.Tensor":
    return (_single_output(output, "unhinged") < 0).long()


def _classes_width(num_classes: int) -> int:
    if num_classes < 2:
        raise ValueError(f"cross_entropy needs num_classes >= 2; got {num_classes}.")
    return num_classes


def _binary_width(num_classes: int) -> int:
    if num_classes != 2:
        raise ValueError(f"the unhinged loss is for binary labels (0 -> +1, 1 -> -1) and a single output; "
                         f"got num_classes={num_classes}.")
    return 1


def _check_classes_width(width: int) -> None:
    if width < 2:
        raise ValueError(f"cross_entropy needs a model with at least 2 outputs; this model has {width}.")


def _check_single_width(width: int) -> None:
    if width != 1:
        raise ValueError(f"the unhinged loss needs a model with a single output; this model has {width}. "
                         "Use theory_net, or build the model with num_classes=1.")


@dataclass(frozen=True)
class Loss:
    """A training loss: ``loss(output, target) -> scalar``, the predictions that go with it, and the
    width of the model output it takes.

    Parameters
    ----------
    name : str
        What a RunSpec's `loss` says.
    function : callable
        ``function(output, target) -> scalar tensor``, target the integer training labels.
    predict : callable
        ``predict(output) -> (batch,) int64 labels`` consistent with the loss.
    num_outputs : callable
        ``num_outputs(num_classes) -> int``: the model's output width for this many training labels
        (raises ValueError for a number the loss cannot take).
    check_width : callable
        ``check_width(width)``: raises ValueError when a model's output width does not fit the loss.
    description : str
        One line for people.
    """

    name: str
    function: Callable[..., "torch.Tensor"]
    predict: Callable[["torch.Tensor"], "torch.Tensor"]
    num_outputs: Callable[[int], int]
    check_width: Callable[[int], None]
    description: str = ""

    def __call__(self, output: "torch.Tensor", target: "torch.Tensor") -> "torch.Tensor":
        return self.function(output, target)


LOSSES: dict[str, Loss] = {}


def register(loss: Loss, *, replace: bool = False) -> Loss:
    """Add a loss to the registry (its name must be new unless `replace`); returns it."""
    if not isinstance(loss, Loss):
        raise TypeError(f"register() takes a Loss, got {type(loss).__name__}")
    return registry.add(LOSSES, loss.name, loss, what="loss", replace=replace)


register(Loss("cross_entropy", cross_entropy, _argmax, _classes_width, _check_classes_width,
              "softmax cross-entropy, mean over the batch (Secs. 3-6)"))
register(Loss("unhinged", unhinged, _sign, _binary_width, _check_single_width,
              "-y f / 2 with y = +1 for label 0 and -1 for label 1, one output (Sec. 7)"))


def lookup(name: object) -> Loss:
    """The Loss a RunSpec's `loss` names: a registered name or an import path naming a Loss."""
    found = registry.named(LOSSES, name, what="loss", kind=Loss) if isinstance(name, str) else None
    if found is not None:
        return found
    raise UnknownNameError(f"unknown loss {name!r}; valid losses: {', '.join(LOSSES)}, or an import path "
                           "'package.module:NAME' naming a fgcore.losses.Loss.")


def num_outputs(loss_name: str, num_classes: int) -> int:
    """Width of the model's output for this loss: num_classes (>= 2) for cross_entropy, and 1 for
    unhinged, which only takes binary tasks (num_classes == 2)."""
    return lookup(loss_name).num_outputs(num_classes)


def get_loss(name: str, *, num_outputs: int | None = None) -> Loss:
    """Return the loss ``name`` ('cross_entropy', 'unhinged', another registered one or an import path).

    Pass ``num_outputs`` (the model's output width, e.g. ``model.head.out_features``) to fail early
    when the model does not fit the loss: unhinged needs exactly 1 output, cross_entropy at least 2.
    """
    loss = lookup(name)
    if num_outputs is not None:
        loss.check_width(num_outputs)
    return loss


def predict(logits: "torch.Tensor", loss_name: str) -> "torch.Tensor":
    """Integer class predictions consistent with the loss: argmax over classes for cross_entropy;
    for unhinged, 0 where the output is >= 0 (y = +1) and 1 otherwise. Returns a 1-D int64 tensor."""
    import torch

    loss = lookup(loss_name)
    if not isinstance(logits, torch.Tensor):
        raise ValueError(f"predict: logits must be a torch tensor; got {type(logits).__name__}.")
    return loss.predict(logits)
