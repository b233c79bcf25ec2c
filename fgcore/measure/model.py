"""The model to measure: built from a name and given its trained weights, or a module given as it is.

A name is one of

- a model fgcore knows (``"mlp"``, ``"resnet18"``, ... : fgcore.models), built as the trainer builds it;
- ``"torchvision:NAME"``: ``torchvision.models.get_model(NAME, weights=None, num_classes=...)`` (never
  a download); a bare NAME that only torchvision knows (``"resnet50"``, ``"mobilenet_v3_small"``) is
  the same;
- an import path ``"package.module:callable"``, called as ``callable(num_classes=..., in_shape=...,
  **model_args)`` (in_shape only when its signature takes it).

The weights come from a state dict (fgcore.measure.checkpoint). The number of outputs is, unless given,
the width of the checkpoint's final linear layer, so a head trained on other labels than the ones
measured loads as it was trained.
"""

from __future__ import annotations

import difflib
import functools
import inspect
from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import nn

from .. import models as fgmodels
from ..errors import CheckpointError, SpecError, UnknownNameError, UsageError
from ..import_path import FORM, is_import_path
from .checkpoint import check_file, checkpoint_sha256, load_state_dict, state_dict_sha256

TORCHVISION = "torchvision:"

__all__ = ["TORCHVISION", "LoadedModel", "ModelRequest", "head_name"]


@dataclass(frozen=True)
class ModelRequest:
    """A model as the caller named it, checked before anything is built (what the cache key needs)."""

    model: Any                      # a name (see the module docstring) or an nn.Module
    checkpoint: str | None
    model_args: dict[str, Any]
    num_classes: int | None

    @classmethod
    def make(cls, model: Any, *, checkpoint: Any, model_args: dict | None,
             num_classes: int | None) -> "ModelRequest":
        model_args = dict(model_args or {})
        if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, int)
                                        or num_classes < 1):
            raise SpecError(f"num_classes must be a positive number of outputs or None (the checkpoint's); "
                            f"got {num_classes!r}.")
        if checkpoint is not None and not isinstance(checkpoint, (str, bytes)) and not hasattr(checkpoint,
                                                                                            "__fspath__"):
            raise SpecError(f"checkpoint must be the path of a state dict file; got {type(checkpoint).__name__}.")
        checkpoint = None if checkpoint is None else str(checkpoint)
        if isinstance(model, nn.Module):
            if model_args or num_classes is not None:
                raise UsageError("model_args and num_classes build a model from its name; a model given as "
                                 "an nn.Module is measured as it is.")
            if checkpoint is not None:  # the module's weights are then the checkpoint's, from here on
                _fit(model, load_state_dict(checkpoint), checkpoint, f"{type(model).__qualname__} object", None)
            return cls(model, checkpoint, {}, None)
        if not isinstance(model, str) or not model:
            raise UnknownNameError(f"model must be a name ({_valid_forms()}) or an nn.Module; got {model!r}.")
        _builder(model)  # an unknown name is an error now, before any data is loaded
        if checkpoint is None:
            raise UsageError(f"model {model!r} is built from its name with random weights: pass its trained "
                             "weights with checkpoint= (--checkpoint), a state dict file, or pass the "
                             "nn.Module itself to measure a model you built in Python.")
        check_file(checkpoint)
        return cls(model, checkpoint, model_args, num_classes)

    @property
    def identity(self) -> str:
        """The model's name, or the class of a module object."""
        if isinstance(self.model, nn.Module):
            return f"{type(self.model).__module__}.{type(self.model).__qualname__}"
        return self.model

    @functools.cached_property
    def weights_sha256(self) -> str:
        """sha256 of the checkpoint file, or of a module object's weights (after its checkpoint)."""
        if isinstance(self.model, nn.Module):
            return state_dict_sha256(self.model.state_dict())
        return checkpoint_sha256(self.checkpoint)

    def key_parts(self) -> dict[str, Any]:
        return {"model": self.identity, "model_args": self.model_args, "num_classes": self.num_classes,
                "weights_sha256": self.weights_sha256}

    def load(self, in_shape: tuple[int, ...], default_classes: int, device: torch.device) -> "LoadedModel":
        """The module with its weights, in eval mode on `device`."""
        if isinstance(self.model, nn.Module):
            module = self.model
        else:
            state = load_state_dict(self.checkpoint)
            build = _builder(self.model)
            outputs = self.num_classes or default_classes
            module = build(outputs, in_shape, self.model_args)
            head = head_name(module)
            width = _rows(state, head)
            if self.num_classes is None and width is not None and width != outputs:
                outputs = width  # the checkpoint's own head: trained on other labels, or a 1000-way one
                module = build(outputs, in_shape, self.model_args)
            _fit(module, state, self.checkpoint, self.model, self.num_classes)
        return LoadedModel(module.to(device).eval(), self.identity)


@dataclass(frozen=True, eq=False)
class LoadedModel:
    module: nn.Module
    name: str


def head_name(module: nn.Module) -> str | None:
    """The qualified name of the final linear layer: ``.head`` where the model has ``.features`` and
    ``.head`` (fgcore's interface), else the last nn.Linear in the order the model registers them."""
    head = getattr(module, "head", None)
    last = None
    for name, sub in module.named_modules():
        if head is not None and sub is head and callable(getattr(module, "features", None)):
            return name
        if isinstance(sub, nn.Linear):
            last = name
    return last


def _rows(state: dict[str, torch.Tensor], head: str | None) -> int | None:
    weight = state.get(f"{head}.weight") if head else None
    return int(weight.shape[0]) if isinstance(weight, torch.Tensor) and weight.ndim == 2 else None


def _valid_forms() -> str:
    return (f"a model fgcore knows ({', '.join(sorted(fgmodels.MODELS))}), 'torchvision:NAME' (NAME one of "
            f"torchvision.models.list_models(), e.g. 'torchvision:resnet50'), or an import path {FORM}")


def _torchvision_names() -> list[str]:
    import torchvision

    return list(torchvision.models.list_models(module=torchvision.models))


def _builder(name: str) -> Callable[[int, tuple[int, ...], dict], nn.Module]:
    """builder(num_classes, in_shape, model_args) -> nn.Module for a model name (see the module)."""
    if name.startswith(TORCHVISION):
        return _torchvision_builder(name[len(TORCHVISION):], name)
    if name in fgmodels.MODELS:
        return lambda classes, shape, args: fgmodels.build(name, classes, shape, **args)
    if is_import_path(name):
        return _import_path_builder(name)
    if name in _torchvision_names():
        return _torchvision_builder(name, name)
    close = difflib.get_close_matches(name, [*fgmodels.MODELS, *_torchvision_names()], n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise UnknownNameError(f"unknown model {name!r}.{hint} Give {_valid_forms()}.")


def _torchvision_builder(arch: str, name: str):
    names = _torchvision_names()
    if arch not in names:
        close = difflib.get_close_matches(arch, names, n=1)
        hint = f" Did you mean 'torchvision:{close[0]}'?" if close else ""
        raise UnknownNameError(f"model {name!r}: torchvision has no architecture {arch!r}.{hint} "
                               f"torchvision.models.list_models() lists them ({', '.join(names[:6])}, ...).")

    def build(classes: int, shape: tuple[int, ...], args: dict) -> nn.Module:
        import torchvision

        try:
            return torchvision.models.get_model(arch, weights=None, num_classes=classes, **args)
        except TypeError as exc:
            raise SpecError(f"model {name!r}: torchvision's {arch} does not take the option(s) "
                            f"{', '.join(map(repr, args))} ({exc}).") from None

    return build


def _import_path_builder(path: str):
    factory = fgmodels.external.resolve(path)
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        parameters = {}
    open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())

    def build(classes: int, shape: tuple[int, ...], args: dict) -> nn.Module:
        kwargs = {"num_classes": classes, **args}
        if open_ended or "in_shape" in parameters:
            kwargs["in_shape"] = shape
        try:
            module = factory(**kwargs)
        except TypeError as exc:
            raise SpecError(f"model {path!r}: calling it with {', '.join(kwargs)} failed ({exc}); it must take "
                            "num_classes (and in_shape, and the model_args you give) as keyword arguments.") from None
        if not isinstance(module, nn.Module):
            raise SpecError(f"model {path!r} returned a {type(module).__name__}; expected a torch.nn.Module.")
        if callable(getattr(module, "features", None)) and getattr(module, "head", None) is not None:
            fgmodels.check_model(module, shape, source=f"model {path!r}")
        return module

    return build


def _fit(module: nn.Module, state: dict[str, torch.Tensor], checkpoint: str, model: str,
         num_classes: int | None) -> None:
    """Load `state` into `module` (every name, every shape), or CheckpointError saying what differs."""
    expected = module.state_dict()
    missing = [name for name in expected if name not in state]
    unexpected = [name for name in state if name not in expected]
    if missing or unexpected:
        parts = [f"{len(names)} {what} ({_listed(names)})" for what, names in
                 (("missing from the checkpoint", missing), ("not in the model", unexpected)) if names]
        raise CheckpointError(f"checkpoint {checkpoint!r} does not fit model {model!r}: its weights are named "
                              f"differently: {'; '.join(parts)}. Is it a state dict of this architecture?")
    wrong = [f"{name} is {tuple(state[name].shape)} in the checkpoint, {tuple(tensor.shape)} in the model"
             for name, tensor in expected.items() if tuple(state[name].shape) != tuple(tensor.shape)]
    if wrong:
        hint = (f"num_classes={num_classes} differs from the checkpoint's head: leave it out"
                if num_classes is not None else "check the model's name and model_args (width, depth, ...)")
        raise CheckpointError(f"checkpoint {checkpoint!r} does not fit model {model!r}: {len(wrong)} weight(s) "
                              f"have another shape ({_listed(wrong, 3)}); {hint}.")
    module.load_state_dict(state)


def _listed(items: list[str], shown: int = 4) -> str:
    return "; ".join(items[:shown]) + (f"; ... ({len(items)} in all)" if len(items) > shown else "")
