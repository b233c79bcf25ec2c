"""The model zoo: ``build(name, num_classes, in_shape, **kwargs) -> nn.Module``.

Every model has ``features(x) -> (batch, feature_dim)`` (the last-layer representation h of the
paper, i.e. the input of the final linear layer), ``head`` (that nn.Linear), ``feature_dim``, and
``forward(x) == head(features(x))``. ``in_shape`` is the per-sample input shape, e.g. (1, 8, 8),
(1, 28, 28), (3, 32, 32) or (64,). Parameters are initialised from torch's global RNG, so
``torch.manual_seed(s)`` before ``build`` makes the model deterministic.

Names (see each module for the layout and the choices made where the paper is silent):

- ``mlp``         fully connected, flattens any input (App. B); kwargs width=512, depth=2,
                  batchnorm=False, activation="relu".
- ``theory_net``  Sec. 7 one-hidden-layer net, fixed all-ones second layer, one output; kwargs m=100,
                  omega (default d^-0.53). Use with the unhinged loss.
- ``small_cnn``   small CNN for 1x8x8 / 1x28x28 grayscale; kwarg width=128 (= feature_dim).
- ``resnet18``    CIFAR ResNet-18 (3x3 stem, no max-pool), 512-d features.
- ``densenet121`` CIFAR DenseNet-121 (growth 32), 1024-d features (App. G).
- ``vgg11`` ``vgg13`` ``vgg16`` ``vgg19``  CIFAR VGG with batch norm, 512-d features (App. H: the
                  paper's "VGG-18" does not exist; fixtures use vgg19).
- ``"package.module:callable"``  any outside model (see fgcore.models.external).

A new model is one module with a ``build(num_classes, in_shape, **options)`` and a call of
``fgcore.models.register(name, build)`` (or, without registering, its import path in a RunSpec).
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable

from torch import nn

from .. import registry
from ..errors import SpecError, UnknownNameError
from ..import_path import FORM, is_import_path
from . import cnn, densenet, mlp, resnet, theory, vgg
from ._common import as_shape, check_num_classes
from .external import build_external, check_model

#: name -> builder(num_classes, in_shape, **options) -> nn.Module with .features and .head
MODELS: dict[str, Callable[..., nn.Module]] = {}
# Models whose builders fgcore ships (checked by its tests); any other is checked on a dummy batch
# (check_model) each time it is built, as import-path models are.
_SHIPPED: set[str] = set()

__all__ = ["MODELS", "build", "check_model", "register"]


def register(name: str, builder: Callable[..., nn.Module], *, replace: bool = False) -> Callable[..., nn.Module]:
    """Add a model: ``builder(num_classes, in_shape, **options)`` returns a module with ``.features(x)``
    (the last-layer representation) and ``.head`` (the final nn.Linear); each model it builds is
    checked for that interface (check_model). Returns the builder."""
    if not callable(builder):
        raise ValueError(f"model {name!r}: the builder must be callable, got {builder!r}")
    registry.add(MODELS, name, builder, what="model", replace=replace)
    _SHIPPED.discard(name)
    return builder


for _name, _builder in {"mlp": mlp.build, "theory_net": theory.build, "small_cnn": cnn.build,
                        "resnet18": resnet.build_resnet18, "densenet121": densenet.build_densenet121,
                        **vgg.BUILDERS}.items():
    register(_name, _builder)
    _SHIPPED.add(_name)


def build(name: str, num_classes: int, in_shape: tuple[int, ...], **kwargs: object) -> nn.Module:
    """Build the model ``name`` with ``num_classes`` outputs for inputs of per-sample shape ``in_shape``.

    Raises ValueError for an unknown name (listing the valid ones), an in_shape the model cannot
    take, a bad num_classes, an option the model does not have, or an import-path model that does
    not fulfil the interface.
    """
    if not isinstance(name, str):
        raise UnknownNameError(f"model name must be a string; got {name!r}.")
    num_classes = check_num_classes(num_classes)
    in_shape = as_shape(in_shape)
    if is_import_path(name):
        return build_external(name, num_classes, in_shape, **kwargs)
    builder = MODELS.get(name)
    if builder is None:
        close = difflib.get_close_matches(name, MODELS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownNameError(
            f"unknown model {name!r}.{hint} Valid names: {', '.join(sorted(MODELS))}; or an import path "
            f"of the form {FORM} naming a callable(num_classes, in_shape, **kwargs)."
        )
    signature = inspect.signature(builder)
    try:
        signature.bind(num_classes, in_shape, **kwargs)
    except TypeError:
        options = [p for p in list(signature.parameters)[2:]]
        unknown = sorted(set(kwargs) - set(options))
        raise SpecError(
            f"model {name!r} has no option(s) {', '.join(map(repr, unknown))}; its options are: "
            f"{', '.join(options) if options else 'none'}."
        ) from None
    model = builder(num_classes, in_shape, **kwargs)
    if name not in _SHIPPED:
        check_model(model, in_shape, source=f"model {name!r}")
    return model
