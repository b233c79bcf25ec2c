"""Models named by import path: ``"package.module:callable"`` (bring your own model).

The callable is called as ``callable(num_classes=..., in_shape=..., **kwargs)`` and must return an
``nn.Module`` with ``.features(x) -> (batch, feature_dim)`` (the last-layer representation) and
``.head`` (the final linear layer, with ``in_features``), such that ``forward(x) == head(features(x))``.
The result is checked on a dummy batch of two samples (in eval mode, without gradients, from a
private random generator so the global RNG is untouched); every failure is a ValueError that says
which attribute was wrong, what was expected and what was found. A missing ``feature_dim`` is set to
``head.in_features``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import torch
from torch import nn

from .. import import_path
from ..errors import SpecError


def resolve(path: str) -> Callable[..., object]:
    """The callable ``package.module:attr[.attr...]`` names, or UnknownNameError / SpecError saying why not."""
    target = import_path.resolve(path, "model")
    if not callable(target):
        raise SpecError(f"model {path!r}: {path.partition(':')[2]!r} is a {type(target).__name__}, not a callable.")
    return target


def build_external(path: str, num_classes: int, in_shape: tuple[int, ...], **kwargs: object) -> nn.Module:
    factory = resolve(path)
    call_kwargs = {"num_classes": num_classes, "in_shape": in_shape, **kwargs}
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # builtins without a signature: just call
        signature = None
    if signature is not None:
        try:
            signature.bind(**call_kwargs)
        except TypeError as error:
            raise SpecError(
                f"model {path!r}: the callable must accept keyword arguments num_classes and in_shape"
                f"{' and ' + ', '.join(kwargs) if kwargs else ''}; its signature is {signature} ({error})."
            ) from error
    model = factory(**call_kwargs)
    check_model(model, in_shape, source=f"model {path!r}")
    return model


def check_model(model: object, in_shape: tuple[int, ...], *, source: str = "model") -> None:
    """Check the fgcore model interface on a dummy batch of two samples; raise ValueError if broken."""
    if not isinstance(model, nn.Module):
        raise SpecError(f"{source} returned a {type(model).__name__}; expected a torch.nn.Module.")
    features = getattr(model, "features", None)
    if features is None or not callable(features):
        raise SpecError(
            f"{source}: the module has no callable attribute 'features'; expected features(x) -> "
            "(batch, feature_dim), the input of the final linear layer."
        )
    head = getattr(model, "head", None)
    if head is None:
        raise SpecError(f"{source}: the module has no attribute 'head'; expected the final nn.Linear layer.")
    if not isinstance(head, nn.Module) or not isinstance(getattr(head, "in_features", None), int):
        raise SpecError(
            f"{source}: attribute 'head' is a {type(head).__name__} without an int 'in_features'; "
            "expected the final linear layer (nn.Linear)."
        )
    width = head.in_features
    declared = getattr(model, "feature_dim", None)
    if declared is not None and declared != width:
        raise SpecError(f"{source}: feature_dim is {declared!r} but head.in_features is {width}; they must be equal.")

    was_training = model.training
    generator = torch.Generator().manual_seed(0)
    try:
        parameter = next(model.parameters(), None)
        device = parameter.device if parameter is not None else torch.device("cpu")
        dummy = torch.randn((2, *in_shape), generator=generator).to(device)
        model.eval()
        with torch.no_grad():
            try:
                h = features(dummy)
            except Exception as error:
                raise SpecError(
                    f"{source}: features(x) failed on a dummy batch of shape {tuple(dummy.shape)}: {error}"
                ) from error
            if not isinstance(h, torch.Tensor) or h.dim() != 2 or tuple(h.shape) != (2, width):
                found = tuple(h.shape) if isinstance(h, torch.Tensor) else type(h).__name__
                raise SpecError(
                    f"{source}: features(x) on a dummy batch of shape {tuple(dummy.shape)} returned "
                    f"{found}; expected a 2-D tensor of shape (2, {width}) (batch, head.in_features)."
                )
            out = model(dummy)
            expected = head(h)
            if not isinstance(out, torch.Tensor) or out.shape != expected.shape or not torch.allclose(
                out.float(), expected.float(), rtol=1e-4, atol=1e-5
            ):
                raise SpecError(
                    f"{source}: forward(x) differs from head(features(x)) on a dummy batch; the metrics "
                    "need features to be exactly the input of the final linear layer."
                )
    finally:
        model.train(was_training)
    if declared is None:
        model.feature_dim = width
