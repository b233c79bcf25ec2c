"""Last-layer features (and logits) of a model, batch by batch.

Which representation is measured:

- a model with fgcore's interface (``.features(x)`` and ``.head``): ``features(x)`` and ``head`` of it,
  exactly the trainer's evaluation pass;
- another model, no layer named: the input of its final linear layer (the last nn.Linear it registers),
  caught by a forward hook; the model's output must be that layer's output (checked on the first
  batch), else name the layer;
- a named layer: the output of that module (``model.named_modules()``: ``"layer3"``, ``"avgpool"``),
  caught by a forward hook, or else that node of the model's graph through torchvision's feature
  extraction (``torchvision.models.feature_extraction``; node names as ``get_graph_node_names`` lists
  them, e.g. ``"flatten"``, ``"layer4.1.add"``), flattened to (batch, d), with the model's output.

NC3 needs the classifier that reads the features: the final linear layer whose input they are (checked
on the first batch: its output equals the model's); otherwise NC3 and NC4 are not measured. A hook is
removed when the extraction ends (`Extractor.close`), so a module given by the caller is left as it was.
"""

from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..errors import SpecError, UnknownNameError
from .model import head_name

__all__ = ["Extractor", "make_extractor", "extract", "Extracted"]


class Extractor:
    """Callable: a batch of inputs -> (features (b, d) float32, logits (b, k) float32 or None)."""

    def __init__(self, model: nn.Module, name: str):
        self.model, self.name = model, name
        self.head: nn.Linear | None = None
        self.description = ""
        self._checked = False

    def __call__(self, x: torch.Tensor):
        if self._checked:
            return self._forward(x)
        try:
            h, out = self._forward(x)
        except (SpecError, UnknownNameError):
            raise
        except Exception as exc:  # a model that does not fit the data: say so, not a traceback
            raise SpecError(f"model {self.name!r}: the forward pass failed on a batch of shape "
                            f"{tuple(x.shape)} ({type(exc).__name__}: {str(exc).strip().splitlines()[0][:300]}); "
                            "check that the model fits the data (input shape, channels, normalisation).") from None
        self._check(h, out)
        self._checked = True
        return h, out

    def _forward(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        """Remove what the extractor attached to the model (a forward hook), so the model is as it was."""

    def _check(self, h: torch.Tensor, out: torch.Tensor | None) -> None:
        """Keep `head` only where the model's output is head(h): NC3 compares its weight with the
        means of h, NC4 its decisions with the nearest centre of h."""
        head = self.head
        if head is None or out is None or out.ndim != 2 or head.in_features != h.shape[1]:
            self.head = None
            return
        with torch.no_grad():
            same = torch.allclose(head(h.to(head.weight.dtype)).float(), out, rtol=1e-4, atol=1e-5)
        if not same:
            self.head = None


class _FeaturesHead(Extractor):
    def __init__(self, model, name):
        super().__init__(model, name)
        self.head = model.head if isinstance(getattr(model.head, "weight", None), torch.Tensor) else None
        self.description = "model.features(x), the input of model.head"

    def _forward(self, x):
        h = self.model.features(x)
        return h.float(), self.model.head(h).float()


class _Hooked(Extractor):
    """What a module of the model receives (`inputs=True`) or returns, caught by a hook in a forward pass."""

    def __init__(self, model, name, module_name: str, *, inputs: bool):
        super().__init__(model, name)
        self.layer = module_name
        self._caught: list = []
        module = dict(model.named_modules())[module_name]
        self._hook = (module.register_forward_pre_hook(lambda m, args: self._caught.append(args[0])) if inputs
                      else module.register_forward_hook(lambda m, args, output: self._caught.append(output)))

    def close(self) -> None:
        self._hook.remove()
        self._caught.clear()

    def _forward(self, x):
        self._caught.clear()
        out = self.model(x)
        if len(self._caught) != 1 or not isinstance(self._caught[0], torch.Tensor) or self._caught[0].ndim < 2:
            what = (f"ran {len(self._caught)} times in one forward pass" if len(self._caught) != 1
                    else f"gives a {type(self._caught[0]).__name__}, not a (batch, ...) tensor")
            raise SpecError(f"model {self.name!r}: its layer {self.layer!r} {what}; name another layer "
                            "with layer= (--layer).")
        return self._caught[0].flatten(1).float(), out.float() if isinstance(out, torch.Tensor) else None


class _HeadInput(_Hooked):
    def __init__(self, model, name):
        layer = head_name(model)
        if layer is None:
            raise SpecError(f"model {name!r} has neither .features / .head nor any nn.Linear layer, so its "
                            "last-layer features cannot be found; name the layer to measure with layer= "
                            "(--layer): a module name or a node of torchvision.models.feature_extraction."
                            "get_graph_node_names(model).")
        super().__init__(model, name, layer, inputs=True)
        self.head = dict(model.named_modules())[layer]
        self.description = f"the input of its final linear layer {layer!r}"

    def _check(self, h, out):
        super()._check(h, out)
        if self.head is None:
            raise SpecError(f"model {self.name!r}: its output is not the output of its last linear layer "
                            f"{self.layer!r}, so the input of that layer is not its last-layer representation; "
                            "name the layer to measure with layer= (--layer).")


def _last_linear(model: nn.Module) -> nn.Linear | None:
    """The last nn.Linear the model registers: the classifier NC3 and NC4 compare, if it reads the layer
    measured (Extractor._check)."""
    found = None
    for module in model.modules():
        if isinstance(module, nn.Linear):
            found = module
    return found


class _ModuleOutput(_Hooked):
    def __init__(self, model, name, layer: str):
        super().__init__(model, name, layer, inputs=False)
        self.head = _last_linear(model)
        self.description = f"the output of its module {layer!r}, flattened"


class _GraphNode(Extractor):
    def __init__(self, model, name, layer: str):
        super().__init__(model, name)
        from torchvision.models.feature_extraction import create_feature_extractor, get_graph_node_names

        try:
            nodes = get_graph_node_names(model)[1]
        except Exception as exc:
            raise SpecError(f"model {name!r}: torchvision's feature extraction cannot trace it "
                            f"({type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}), so layer="
                            f"{layer!r} can only be one of its module names (model.named_modules()).") from None
        if layer not in nodes:
            modules = [m for m, _ in model.named_modules() if m]
            close = difflib.get_close_matches(layer, list(dict.fromkeys(modules + nodes)), n=3)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            raise UnknownNameError(f"model {name!r} has no layer {layer!r}.{hint} A layer is a module name "
                                   f"(model.named_modules(): {', '.join(modules[:4])}, ...) or a node of its graph "
                                   f"(torchvision's get_graph_node_names: {', '.join(nodes[:4])}, ..., "
                                   f"{', '.join(nodes[-3:])}).")
        returns = {layer: "h"} if layer == nodes[-1] else {layer: "h", nodes[-1]: "out"}
        self.graph = create_feature_extractor(model, return_nodes=returns).eval()
        self.description = f"the node {layer!r} of its graph (torchvision feature extraction), flattened"
        self.head = _last_linear(model)

    def _forward(self, x):
        result = self.graph(x)
        h = result["h"]
        out = result.get("out", h)  # no "out": the layer named is the model's output itself
        out = out.float() if isinstance(out, torch.Tensor) and out.ndim == 2 else None
        return h.flatten(1).float(), out


def make_extractor(model: nn.Module, name: str, layer: str | None) -> Extractor:
    """The extractor for `model` (see the module docstring for which representation)."""
    if layer is not None:
        if not isinstance(layer, str) or not layer:
            raise SpecError(f"layer must be a module name or the name of a node of the model's graph; got {layer!r}.")
        modules = dict(model.named_modules())
        return _ModuleOutput(model, name, layer) if layer in modules else _GraphNode(model, name, layer)
    if callable(getattr(model, "features", None)) and isinstance(getattr(model, "head", None), nn.Module):
        return _FeaturesHead(model, name)
    return _HeadInput(model, name)


@dataclass(frozen=True, eq=False)
class Extracted:
    """One split's features (n, d) and logits (n, k) (or None), float32 numpy."""

    features: np.ndarray
    logits: np.ndarray | None


@torch.no_grad()
def extract(extractor: Extractor, split, *, batch_size: int, progress: bool, what: str) -> Extracted:
    """Run `extractor` over a prepared split (fgcore.train.device_data.DeviceSplit) in eval mode."""
    from tqdm.auto import tqdm

    extractor.model.eval()
    features, logits = [], []
    with tqdm(total=split.n, desc=what, unit="sample", disable=not progress, file=sys.stderr,
              leave=False) as bar:
        for start in range(0, split.n, batch_size):
            h, out = extractor(split.inputs(slice(start, min(start + batch_size, split.n))))
            features.append(h.cpu())
            if out is not None:
                logits.append(out.cpu())
            bar.update(h.shape[0])
    return Extracted(torch.cat(features).numpy(), torch.cat(logits).numpy() if logits else None)
