"""measure(model, data, labeling=...) -> Measurement: extract (or read from the cache), then measure."""

from __future__ import annotations

import json
import platform
import sys
import time
from typing import Any, Callable

import numpy as np

from .. import settings
from ..errors import SpecError
from ..train.cache import CorruptEntryError, load_tensors, save_tensors
from ..fileio import atomic_write_json
from .data import DataRequest, device_split, load as load_data
from .measurement import Measurement, compute
from .model import ModelRequest
from .store import FeatureEntry, entry_key

__all__ = ["measure"]

# Rows per forward pass where batch_size is not given: the trainer's evaluation batches, so that a model
# fgcore trained gives its own statistics' features to the last bit on the CPU.
BATCH = {"cpu": 1024, "cuda": 2048}


def measure(model: Any, data: str, labeling: str = "identity", *, checkpoint: Any = None,
            layer: str | None = None, layers: Any = None, model_args: dict | None = None,
            num_classes: int | None = None, data_args: dict | None = None, subset: int | None = None,
            test_subset: int | None = None, seed: int = 0, normalize: str = "auto", device: Any = None,
            batch_size: int | None = None, cache: Any = None, clp: bool = True,
            progress: bool | None = None) -> Measurement:
    """Measure a trained model: the Neural-Collapse family and the paper's fine structure of its features.

    The model's last-layer features (or those of a named layer) are extracted on the training and test
    splits of a data set (or read from the feature cache), then measured with the functions the trainer
    and the claims use.

    Parameters
    ----------
    model : str or torch.nn.Module
        A model fgcore knows ("mlp", "resnet18", ...), "torchvision:NAME" (a torchvision architecture), an
        import path "package.module:callable" (called with num_classes=, in_shape= and model_args), or an
        nn.Module (measured as it is, after `checkpoint` if given).
    data : str
        A data set fgcore knows ("digits", "cifar10", "image_folder:<path>", ...) or an import path
        (fgcore.data.load).
    labeling : str, default="identity"
        The labels the features are measured under: "coarse:5", "random_coarse:5", "fine", "natural",
        "identity", ... (fgcore.labels). Fine structure needs a labeling that merges classes.
    checkpoint : str or path-like, default=None
        The model's trained weights: a state dict file (``torch.save(model.state_dict(), path)``), loaded
        with ``torch.load(weights_only=True)``. Required for a model given by name.
    layer : str, default=None
        The representation to measure. None: ``model.features`` where the model has fgcore's interface,
        else the input of its final linear layer. A name: the output of that module ("layer3", "avgpool"),
        or else that node of the model's graph (torchvision's feature extraction, e.g. "flatten"), flattened.
    layers : "auto" or list of str, default=None
        Also measure NC1 and the distance ratio at these layers (module names, input to output; "auto":
        the model's blocks), to see where collapse begins in depth.
    model_args : dict, default=None
        Options of the model's builder (e.g. {"width": 512, "depth": 3} for "mlp").
    num_classes : int, default=None
        Outputs of the model's head; None: the width of the checkpoint's final linear layer.
    data_args, subset, test_subset, seed :
        As in fgcore.data.load: the data set's options, seeded stratified subsets of the splits, the seed
        of synthetic data, of the subsets, of random labelings and of CLP.
    normalize : {"auto", "none", "per_channel"}, default="auto"
        The input normalisation: "auto" does what the trainer does on this data set (per-channel
        standardisation with the training split's statistics for images).
    device : str or torch.device, default=None
        Where the model runs: $FGCORE_DEVICE, else CUDA when available, else the CPU.
    batch_size : int, default=None
        Rows per forward pass (default 1024 on the CPU, 2048 on a GPU).
    cache : path-like, default=None
        The cache root (default fgcore.settings.cache_root(): $FGCORE_CACHE or ~/.cache/fgcore).
    clp : bool, default=True
        Run t-SNE, k-means and the probes (CLP, LPO; seconds to minutes) where the labeling merges classes.
    progress : bool, default=None
        Show progress bars while features are extracted (default: when stderr is a terminal).

    Returns
    -------
    Measurement
        ``.numbers``, ``.notes``, ``.layers``, ``.features(split=...)``, ``.report(path)``.

    Raises
    ------
    fgcore.errors.UnknownNameError, SpecError, UsageError, NotFoundError, CheckpointError
        On a model, data set, labeling or layer fgcore does not know, an option it cannot use, a missing
        file, or weights that are not a state dict of this model; each message says what to change.

    Examples
    --------
    A network with five outputs, saved as a state dict (here untrained, in place of one you trained),
    measured on a Gaussian mixture of ten classes merged into five superclasses:

    >>> import tempfile, torch
    >>> from fgcore.measure import measure
    >>> from fgcore.models import build
    >>> folder = tempfile.mkdtemp()
    >>> torch.save(build("mlp", 5, (8,), width=16, depth=1).state_dict(), f"{folder}/mlp.pt")
    >>> m = measure("mlp", "gaussian_mixture", labeling="coarse:5", checkpoint=f"{folder}/mlp.pt",
    ...             model_args={"width": 16, "depth": 1}, data_args={"dim": 8, "n_per_class": 20},
    ...             cache=folder, clp=False)
    >>> m.meta["n_train"], m.meta["feature_dim"]
    (200, 16)
    >>> sorted(k for k, v in m.numbers.items() if v is not None)[:5]
    ['cdnv', 'distance_ratio', 'equiangularity', 'equinorm', 'nc1']
    >>> m.report(f"{folder}/page.html").name
    'page.html'
    >>> import shutil; shutil.rmtree(folder)
    """
    model_request = ModelRequest.make(model, checkpoint=checkpoint, model_args=model_args, num_classes=num_classes)
    data_request = DataRequest.make(data, labeling, data_args=data_args, subset=subset, test_subset=test_subset,
                                    seed=seed, normalize=normalize)
    layer_names = _layers_argument(layers)
    torch_device = _device(device)
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise SpecError(f"batch_size must be a positive number of rows; got {batch_size!r}.")
    session = _Session(model_request, data_request, layer, torch_device,
                       batch_size or BATCH.get(torch_device.type, 1024),
                       sys.stderr.isatty() if progress is None else bool(progress))
    root = settings.cache_root(cache)
    parts = {**model_request.key_parts(), **data_request.key_parts(), "layer": layer}
    started = time.perf_counter()
    entry = FeatureEntry(root, entry_key(parts))
    found = _cached(entry, session.extract, _read_features, session.say)
    measurement = Measurement(key=entry.key, meta=found["meta"], arrays=found["arrays"],
                              labels_by_split=found["labels"])
    # the same weights may sit under another path than when the entry was written
    measurement.meta.update(cache=str(entry.path), from_cache=found["from_cache"], checkpoint=model_request.checkpoint)
    compute(measurement, head_weight=found["arrays"].get("head_weight"),
            original_class=_array_or_none(found["meta"].get("original_class")), clp=clp, seed=seed)
    if layer_names is not None:
        layer_entry = FeatureEntry(root, entry_key({**parts, "layers": layer_names}))
        per_layer = _cached(layer_entry, lambda e: session.layers(e, layer_names), _read_layers, session.say)
        measurement.layers = per_layer["layers"] + [_measured_layer(measurement, layer)]
    measurement.meta["seconds"] = round(time.perf_counter() - started, 2)
    return measurement


def _measured_layer(measurement: Measurement, layer: str | None) -> dict[str, Any]:
    """The row of the measured representation itself, last in the layer-by-layer table."""
    return {"layer": layer or "features", "dim": int(measurement.meta["feature_dim"]),
            "nc1": measurement.numbers.get("nc1"), "ratio": measurement.numbers.get("distance_ratio"),
            "note": f"the measured representation: {measurement.meta['representation']}"}


def _layers_argument(layers: Any) -> str | list[str] | None:
    if layers is None:
        return None
    if layers == "auto":
        return "auto"
    if isinstance(layers, (list, tuple)) and all(isinstance(v, str) and v for v in layers):
        return list(layers) if layers else "auto"
    raise SpecError(f"layers must be 'auto' or a list of layer names (module names); got {layers!r}.")


def _device(device: Any):
    import torch

    from ..train.loop import default_device

    try:
        chosen = torch.device(device) if device is not None else default_device()
    except (RuntimeError, TypeError) as exc:
        raise SpecError(f"device={device!r} is not a torch device ({exc}); use 'cpu', 'cuda' or 'cuda:1'.") from None
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise SpecError(f"device={device!r}: no CUDA device is available here; use 'cpu'.")
    return chosen


def _array_or_none(value: Any) -> np.ndarray | None:
    return None if value is None else np.asarray(value, dtype=np.int64)


def _cached(entry: FeatureEntry, compute_into: Callable, read: Callable, say: Callable) -> dict[str, Any]:
    """`read(entry)` of a complete entry; else, under its lock, `compute_into(entry)` then the manifest."""
    if entry.is_complete():
        try:
            return {**read(entry), "from_cache": True}
        except CorruptEntryError as exc:
            say(f"{exc}; computing it again")
    with entry.lock(on_wait=lambda: say(f"another process is computing {entry.path}; waiting")):
        if entry.is_complete():
            try:
                return {**read(entry), "from_cache": True}
            except CorruptEntryError as exc:
                say(f"{exc}; computing it again")
        entry.invalidate()
        entry.path.mkdir(parents=True, exist_ok=True)
        compute_into(entry)
        entry.write_manifest({"key": entry.key})
        return {**read(entry), "from_cache": False}


def _read_features(entry: FeatureEntry) -> dict[str, Any]:
    arrays = load_tensors(entry.read_verified("features.safetensors"))
    labels = load_tensors(entry.read_verified("labels.safetensors"))
    meta = json.loads(entry.read_verified("meta.json"))
    by_split = {split: {kind: labels[f"{split}_{kind}"] for kind in ("train", "original")}
                for split in ("train", "test")}
    return {"arrays": dict(arrays), "labels": by_split, "meta": meta}


def _read_layers(entry: FeatureEntry) -> dict[str, Any]:
    return {"layers": json.loads(entry.read_verified("layers.json"))["layers"]}


class _Session:
    """Loads the data and the model once, when an entry has to be computed."""

    def __init__(self, model_request: ModelRequest, data_request: DataRequest, layer: str | None, device,
                 batch_size: int, progress: bool):
        self.model_request, self.data_request, self.layer = model_request, data_request, layer
        self.device, self.batch_size, self.progress = device, batch_size, progress
        self._data = self._model = None

    def say(self, message: str) -> None:
        print(f"fgcore measure: {message}", file=sys.stderr, flush=True)

    @property
    def data(self):
        if self._data is None:
            self._data = load_data(self.data_request)
        return self._data

    @property
    def model(self):
        if self._model is None:
            self._model = self.model_request.load(self.data.in_shape, self.data.n_train_classes, self.device)
        return self._model

    def extract(self, entry: FeatureEntry) -> None:
        import torch

        from .extract import extract, make_extractor

        data, loaded = self.data, self.model
        extractor = make_extractor(loaded.module, loaded.name, self.layer)
        started = time.perf_counter()
        try:
            out = {split: extract(extractor, device_split(data, split, self.device), batch_size=self.batch_size,
                                  progress=self.progress, what=f"features of {self.data_request.name} {split}")
                   for split in ("train", "test")}
        finally:
            extractor.close()
        arrays = {"train": out["train"].features, "test": out["test"].features}
        for split in ("train", "test"):
            if out[split].logits is not None:
                arrays[f"{split}_logits"] = out[split].logits
        if extractor.head is not None:
            arrays["head_weight"] = extractor.head.weight.detach().float().cpu().numpy()
        save_tensors(entry.file("features.safetensors"), arrays)
        save_tensors(entry.file("labels.safetensors"), {f"{split}_{kind}": data.labels[split][kind]
                                                        for split in ("train", "test")
                                                        for kind in ("train", "original")})
        request = self.data_request
        atomic_write_json(entry.file("meta.json"), {
            "model": loaded.name, "checkpoint": self.model_request.checkpoint,
            "weights_sha256": self.model_request.weights_sha256, "model_args": self.model_request.model_args,
            "data": request.name, "data_args": request.data_args, "data_source": data.source,
            "labeling": request.labeling, "seed": request.seed, "normalize": request.normalize,
            "layer": self.layer, "representation": extractor.description,
            "class_names": list(data.class_names), "n_train_classes": int(data.n_train_classes),
            "superclass_of": None if data.superclass_of is None else [int(v) for v in data.superclass_of],
            "original_class": None if data.original_class is None else [int(v) for v in data.original_class],
            "n_train": int(arrays["train"].shape[0]), "n_test": int(arrays["test"].shape[0]),
            "feature_dim": int(arrays["train"].shape[1]),
            "outputs": None if out["train"].logits is None else int(out["train"].logits.shape[1]),
            "device": str(self.device) + (f" ({torch.cuda.get_device_name(self.device)})"
                                          if self.device.type == "cuda" else ""),
            "batch_size": self.batch_size, "extract_seconds": round(time.perf_counter() - started, 2),
            "torch": torch.__version__, "python": platform.python_version(),
        })

    def layers(self, entry: FeatureEntry, names: str | list[str]) -> None:
        from .layers import check_layers, default_layers, measure_layers

        data, module = self.data, self.model.module
        chosen = default_layers(module) if names == "auto" else check_layers(module, names, self.model.name)
        results = measure_layers(module, chosen, device_split(data, "train", self.device),
                                 n_train=data.n_train_classes, n_original=len(data.class_names),
                                 superclass_of=data.superclass_of, batch_size=self.batch_size,
                                 progress=self.progress)
        atomic_write_json(entry.file("layers.json"), {"layers": [r.to_dict() for r in results],
                                                      "requested": names})
