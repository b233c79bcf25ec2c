"""RunSpec: everything that determines a training run, and nothing else.

The cache key of a run is the sha256 of the canonical JSON of its spec plus TRAINING_CODE_VERSION, so
two processes (or a GPU sweep and a later CPU pytest session) that ask for the same spec share one
cache entry. What changes the numbers is in the spec: the seed fixes the data stream (the shuffles,
crop offsets and flips are drawn on a CPU generator, the same on every device) and `precision` says
whether the run computes in float32 or under bf16 autocast. Choices that change only the speed (the
device, channels_last, cuDNN autotuning, fused SGD, torch.compile) are not part of it; on CUDA they
make runs non-bit-reproducible (cuDNN picks its algorithms at run time), never differently defined.

A RunSpec is a value: its key is a function of its fields and nothing else. Choices it leaves open
("auto" augmentation and normalisation, a data set's options the environment fills in, such as a
cifar10 run's source) are made by fgcore.train.resolve when an experiment is loaded or a run is
trained, and the resolved spec (so its key) holds them.

Defaults where the paper is silent live here, in one place (README: "Defaults"):
- batch size 128, SGD with momentum 0.9, step schedule (x0.1 at 1/3 and 2/3 of the epochs; the paper
  says only "a standard learning rate decay schedule"), 350 epochs (Fig. 5 shows epoch 350);
- augmentation "auto": what the data set declares (fgcore.data.DatasetInfo): random crop with 4 px zero
  padding + horizontal flip for CIFAR, none for the others; by the samples' shape where a data set
  declares nothing (crop + flip for 3x32x32 images);
- normalisation "auto": per-channel standardisation with the training split's mean/std for image data
  sets, none for vector data such as the Gaussian mixtures of App. B;
- snapshots (full train + test features) at epochs 0, 1, 2, 5, 10, 20, 40, 80, 120, 160, 200, 240,
  280, 320, 350 scaled to the run's length; per-epoch statistics every epoch (stats_every = 1).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..data.registry import AUGMENTATIONS as DATA_AUGMENTATIONS
from ..data.registry import NORMALIZATIONS as DATA_NORMALIZATIONS
from ..errors import SpecError

# Bump when a change to the training code changes what a cached run would contain.
# 2: the history records NC3, NC4, CDNV, equinorm and equiangularity, and NC2 centres the class means
# at their own mean (the centre of a simplex ETF) instead of the mean of all samples.
TRAINING_CODE_VERSION = 2

OPTIMIZERS = ("sgd", "gd")
SCHEDULES = ("step", "cosine", "constant")
AUGMENTATIONS = ("auto", *DATA_AUGMENTATIONS)
NORMALIZATIONS = ("auto", *DATA_NORMALIZATIONS)
# float32: no autocast (and no TF32 on CUDA); bf16: torch.autocast with bfloat16 (the gpu fixtures).
PRECISIONS = ("float32", "bf16")
# Fields added after runs were first cached enter the key only when they differ from these values,
# so every run cached before a field existed (all of them float32) keeps its key.
KEY_DEFAULTS = {"precision": "float32", "data_digest": None}
# Where data lies, in a data set name or a data option: dropped from the key of a run that names its data
# by content (data_digest).
_LOCATION = re.compile(r"^(image_folder):.*$")

# The paper's snapshot epochs for a 350-epoch run; scaled for other lengths by default_snapshots().
PAPER_SNAPSHOTS = (0, 1, 2, 5, 10, 20, 40, 80, 120, 160, 200, 240, 280, 320, 350)
PAPER_EPOCHS = 350


def default_snapshots(epochs: int) -> tuple[int, ...]:
    """PAPER_SNAPSHOTS rescaled to `epochs` (always including 0 and the last epoch)."""
    scaled = {0, epochs}
    for e in PAPER_SNAPSHOTS:
        scaled.add(min(epochs, max(0, round(e * epochs / PAPER_EPOCHS))))
    return tuple(sorted(scaled))


def _freeze(value: Any) -> Any:
    """Canonical, JSON-friendly form: dicts sorted, tuples as lists, ints that are floats kept as floats."""
    if isinstance(value, Mapping):
        return {str(k): _freeze(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_freeze(v) for v in value]
    return value


@dataclass(frozen=True)
class RunSpec:
    """One training run. See the module docstring for the defaults and why.

    dataset:      a name fgcore.data.load knows ("digits", "fashion_mnist", "cifar10", "cifar100",
                  "gaussian_mixture", "theory_clusters", any registered one, "image_folder:<path>", or
                  an import path "package.module:attribute")
    data_args:    options passed to fgcore.data.load (e.g. sigma2 for gaussian_mixture; cifar10's
                  source, filled in by resolve)
    subset:       seeded, stratified number of training samples (None: the whole split)
    test_subset:  the same for the test split
    labeling:     "coarse:K", "random_coarse:K", "fine", "natural", "random_natural", "identity"
                  (fgcore.labels.LABELINGS), or an import path naming a fgcore.labels.Labeling
    model:        a name fgcore.models.build knows, or "package.module:callable"
    loss:         "cross_entropy" or "unhinged" (Sec. 7) (fgcore.losses.LOSSES), or an import path
    augment, normalize: "auto" (decided by resolve), or the choice itself
    optimizer:    "sgd" (minibatch, momentum) or "gd" (full-batch gradient descent, the theory setting)
    epochs:       number of passes (for "gd": number of gradient steps)
    snapshot_epochs: epochs whose full train/test features are stored (None: default_snapshots)
    stats_every:  per-epoch statistics (NC1, NC2, D) every this many epochs and at every snapshot
                  (0: at snapshots only, and then the test split too is evaluated only there);
                  the test split is evaluated every epoch otherwise
    precision:    "float32" (default: the fast and slow tiers, whose thresholds were measured so) or
                  "bf16" (bfloat16 autocast for the forward passes, float32 weights and optimiser;
                  the inputs are stored in bf16 too, as autocast would round them at the first layer)
    data_digest:  sha256 of the data where a path names it (an image folder), filled in by resolve;
                  the key then holds it instead of the path (the same images in another folder are
                  the same run)
    """

    dataset: str
    labeling: str = "identity"
    model: str = "resnet18"
    data_args: Mapping[str, Any] = field(default_factory=dict)
    model_args: Mapping[str, Any] = field(default_factory=dict)
    subset: int | None = None
    test_subset: int | None = None
    loss: str = "cross_entropy"
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    batch_size: int = 128
    epochs: int = PAPER_EPOCHS
    schedule: str = "step"
    augment: str = "auto"
    normalize: str = "auto"
    seed: int = 0
    snapshot_epochs: tuple[int, ...] | None = None
    stats_every: int = 1
    precision: str = "float32"
    data_digest: str | None = None

    def __post_init__(self) -> None:
        def bad(name: str, why: str) -> SpecError:
            return SpecError(f"RunSpec argument `{name}`: {why}")

        for name in ("dataset", "labeling", "model", "loss"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise bad(name, f"expected a name, got {getattr(self, name)!r}")
        for name, allowed in (("optimizer", OPTIMIZERS), ("schedule", SCHEDULES),
                              ("augment", AUGMENTATIONS), ("normalize", NORMALIZATIONS),
                              ("precision", PRECISIONS)):
            value = getattr(self, name)
            if value not in allowed:
                raise bad(name, f"{value!r} is not one of {', '.join(allowed)}")
        if not isinstance(self.epochs, int) or self.epochs < 1:
            raise bad("epochs", f"must be a positive integer, got {self.epochs!r}")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise bad("batch_size", f"must be a positive integer, got {self.batch_size!r}")
        if not self.lr > 0:
            raise bad("lr", f"must be positive, got {self.lr!r}")
        if self.weight_decay < 0 or not 0 <= self.momentum < 1:
            raise bad("weight_decay/momentum", "weight_decay must be >= 0 and momentum in [0, 1)")
        if not isinstance(self.stats_every, int) or self.stats_every < 0:
            raise bad("stats_every", f"must be a non-negative integer (0: snapshots only), got {self.stats_every!r}")
        if self.data_digest is not None and not (isinstance(self.data_digest, str)
                                                 and re.fullmatch(r"[0-9a-f]{64}", self.data_digest)):
            raise bad("data_digest", f"must be None or a sha256 hex digest, got {self.data_digest!r}")
        for name in ("subset", "test_subset"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise bad(name, f"must be None or a positive integer, got {value!r}")
        # Normalise the containers so equal specs have equal keys and the dataclass stays immutable.
        object.__setattr__(self, "data_args", _freeze(dict(self.data_args)))
        object.__setattr__(self, "model_args", _freeze(dict(self.model_args)))
        snaps = self.snapshot_epochs
        snaps = default_snapshots(self.epochs) if snaps is None else tuple(sorted({int(e) for e in snaps}))
        if snaps and (snaps[0] < 0 or snaps[-1] > self.epochs):
            raise bad("snapshot_epochs", f"must lie in [0, epochs={self.epochs}], got {list(snaps)}")
        if not snaps or snaps[-1] != self.epochs:
            snaps = tuple(sorted(set(snaps) | {self.epochs}))  # the final features are always kept
        object.__setattr__(self, "snapshot_epochs", snaps)

    # -- serialisation ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return _freeze(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RunSpec":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SpecError(
                f"RunSpec: unknown field(s) {', '.join(unknown)}; valid fields are {', '.join(sorted(known))}"
            )
        return cls(**dict(data))

    def replace(self, **changes: Any) -> "RunSpec":
        data = self.to_dict()
        if "epochs" in changes and "snapshot_epochs" not in changes:
            data["snapshot_epochs"] = None  # rescale the default snapshots to the new length
        data.update(changes)
        return RunSpec.from_dict(data)

    def record(self) -> dict[str, Any]:
        """What a run's spec.json holds: the spec as given (with where its data lies) and the
        training-code version; RunSpec.from_dict(record()["spec"]).key == key."""
        spec = {k: v for k, v in self.to_dict().items() if KEY_DEFAULTS.get(k, object()) != v}
        return {"spec": spec, "training_code_version": TRAINING_CODE_VERSION}

    def canonical_json(self) -> str:
        spec = {k: v for k, v in self.to_dict().items() if KEY_DEFAULTS.get(k, object()) != v}
        if self.data_digest is not None:  # known by its content: where it lies is not part of the run
            spec["dataset"] = _LOCATION.sub(r"\1", spec["dataset"])
            spec["data_args"] = {k: _LOCATION.sub(r"\1", v) if isinstance(v, str) else v
                                 for k, v in spec["data_args"].items()}
        payload = {"spec": spec, "training_code_version": TRAINING_CODE_VERSION}
        return json.dumps(payload, sort_keys=True, separators=(",", ":"))

    @property
    def key(self) -> str:
        """Cache key: sha256 of the canonical JSON of the spec and the training-code version."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()[:32]

    @property
    def short(self) -> str:
        """A one-line human description for progress bars and logs."""
        return (f"{self.dataset}/{self.labeling}/{self.model} lr={self.lr:g} wd={self.weight_decay:g} "
                f"ep={self.epochs} seed={self.seed}" + ("" if self.precision == "float32" else f" {self.precision}"))
