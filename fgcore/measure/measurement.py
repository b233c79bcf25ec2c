"""`Measurement`: the numbers fgcore measure gives for one model, its features, and its page.

Every number is computed by the same function the trainer's statistics and the claims use, on the
training split with the training labels unless said otherwise: fgcore.metrics for the Neural-Collapse
family and the class distance matrices, fgcore.run_metrics for the lines, the distance ratio, CLP and
LPO (a Measurement answers the questions those functions ask of a Run: features, labels, distance
matrices, superclasses).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import metrics
from .. import run_metrics
from ..train.run import ClassesFromMeta
from .numbers import DISCOVERY_NUMBERS, NUMBERS, plain

__all__ = ["Measurement"]


@dataclass(eq=False)
class Measurement(ClassesFromMeta):
    """What `fgcore.measure.measure` found for one model on one data set and labeling.

    Attributes
    ----------
    numbers : dict
        Every number by key (see fgcore.measure.NUMBERS for their meanings): the Neural-Collapse family
        (fgcore.metrics.METRICS: nc1 ... nc4, cdnv, equinorm, equiangularity), accuracies, and where the
        labeling merges classes the fine structure (distance_ratio, superclass_to_diagonal, tsne_purity,
        clp, lpo, clp_chance, clp_fraction, and CLP's clusters scored as the coarse-to-fine literature
        does: cluster_acc, cluster_acc_chance, nmi, ari, nmi_within, ari_within). None where a number is
        undefined for this model or labeling (`notes` says why).
    notes : list of str
        Why a number is missing, and anything else worth knowing about the measurement.
    layers : list of dict or None
        With ``layers=``: per layer, input to output, {layer, dim, nc1, ratio, note}; the last entry is
        the measured representation itself.
    key : str
        The feature cache's key of the measurement.
    meta : dict
        What was measured: model, weights' sha256, data set and source, labeling, layer, sizes, device.
    arrays : dict of str to ndarray
        The extracted float32 arrays: "train" and "test" features, "train_logits" and "test_logits"
        where the model has an output, "head_weight" where the features feed its final linear layer.
        Read them with `features` and `logits`.
    labels_by_split : dict
        split -> {"train": the labeling's labels, "original": the data set's classes}; read with `labels`.
    tsne_panels : list of dict or None
        Per superclass, the t-SNE embedding CLP clustered: {superclass, points, labels, purity}.
    discovery : dict or None
        CLP's clusters scored against the original classes (fgcore.metrics.discovery_scores): {"overall":
        the six numbers, "per_superclass": {superclass: the six numbers and n_samples}, "left_out":
        superclasses of one class}; the overall ones are also in ``numbers`` (cluster_acc, ...).
    """

    key: str
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(repr=False)
    labels_by_split: dict[str, dict[str, np.ndarray]] = field(repr=False)
    numbers: dict[str, float | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    layers: list[dict[str, Any]] | None = None
    tsne_panels: list[dict[str, Any]] | None = field(default=None, repr=False)
    discovery: dict[str, Any] | None = field(default=None, repr=False)

    # -- what fgcore.run_metrics asks of a run (with ClassesFromMeta) -----------------------------------
    def __repr__(self) -> str:
        return (f"Measurement({self.meta['model']} on {self.meta['data']}, labeling={self.meta['labeling']!r}, "
                f"key={self.key[:12]})")

    def features(self, epoch: Any = "last", split: str = "train") -> np.ndarray:
        """The measured features (n, d) of a split (float32); `epoch` is "last" (one model, one state)."""
        self._one_state(epoch)
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        return self.arrays[split]

    def logits(self, split: str = "train") -> np.ndarray | None:
        """The model's outputs on a split, or None where it has none."""
        return self.arrays.get(f"{split}_logits")

    def labels(self, split: str = "train", kind: str = "train") -> np.ndarray:
        """Labels of a split: kind "train" (the labeling's) or "original"."""
        if kind not in ("train", "original"):
            raise ValueError(f"kind must be 'train' or 'original', got {kind!r}")
        return self.labels_by_split[split][kind]

    def distance_matrix(self, epoch: Any = "last", kind: str = "original", split: str = "train") -> np.ndarray:
        """The class distance matrix D (eq. 6) of a split's features under the training or original labels."""
        self._one_state(epoch)
        return metrics.class_distance_matrix(self.features("last", split), self.labels(split, kind))

    @staticmethod
    def _one_state(epoch: Any) -> None:
        if epoch not in ("last", -1):
            raise ValueError(f"a measurement has one state of the model: epoch must be 'last', got {epoch!r}")

    # -- output ---------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Everything but the features, as plain JSON values (NaN and inf as None)."""
        D = {f"{split}_{kind}": self.distance_matrix("last", kind, split)
             for split in ("train", "test") for kind in ("train", "original")}
        return plain({"key": self.key, "meta": self.meta, "numbers": self.numbers, "notes": self.notes,
                      "layers": self.layers, "discovery": self.discovery, "distance_matrices": D})

    def report(self, path: str | Path, *, dpi: int | None = None) -> Path:
        """Write the HTML page (one self-contained file, drawn with the kit the claims report uses) and
        return its path: `path` itself when it ends in .html, else `path`/index.html."""
        from ..fileio import atomic_write_text
        from .page import render_page   # Jinja2 and matplotlib: only when a page is written

        path = Path(path)
        target = path if path.suffix.lower() in (".html", ".htm") else path / "index.html"
        atomic_write_text(target, render_page(self, dpi=dpi))
        return target


def compute(m: Measurement, *, head_weight: np.ndarray | None, original_class: np.ndarray | None,
            clp: bool, seed: int) -> None:
    """Fill `m.numbers`, `m.notes` and `m.tsne_panels` from its features (see the module docstring)."""
    numbers, notes = m.numbers, m.notes

    def attempt(key: str, function) -> None:
        try:
            numbers[key] = float(function())
        except ValueError as exc:
            numbers[key] = None
            notes.append(f"{NUMBERS[key][0]}: {exc}")

    _collapse_family(m, head_weight, attempt)
    _accuracies(m, original_class)
    if m.superclass_of is None:
        notes.append(f"fine structure (distance ratio, lines of D, t-SNE, CLP): the labeling "
                     f"{m.meta['labeling']!r} merges no classes into superclasses.")
        return
    attempt("distance_ratio", lambda: run_metrics.distance_ratio(m).overall)
    attempt("superclass_to_diagonal", lambda: run_metrics.superclass_to_diagonal(m))
    if clp:
        _clp(m, seed, attempt)


def _collapse_family(m: Measurement, head_weight: np.ndarray | None, attempt) -> None:
    """The Neural-Collapse family (fgcore.metrics.METRICS) on the training features and labels; the metrics
    that read the classifier (NC3, NC4) only where the features are the input of the model's final linear
    layer and it has one output per label, else None with a note."""
    H, y = m.features("last", "train"), m.labels("train", "train")
    C = m.n_train_classes
    family = list(metrics.METRICS.values())
    with_head = head_weight is not None and head_weight.shape[0] == C
    classifier = {"weight": head_weight, "logits": m.logits("train"), "classes": np.arange(C)}
    for metric in family:
        if metric.reads == "features":
            attempt(metric.key, lambda: metric.on_features(H, y))
        elif with_head:
            attempt(metric.key, lambda: metric.on_features(H, y, **classifier))
        else:
            m.numbers[metric.key] = None
    needing = ", ".join(metric.name for metric in family if metric.reads == "classifier")
    if needing and not with_head:
        m.notes.append(f"{needing}: " + ("the measured layer is not the input of the model's final linear layer"
                                         if head_weight is None else
                                         f"the model's final linear layer has {head_weight.shape[0]} outputs, "
                                         f"the labeling {m.meta['labeling']!r} {C} labels")
                       + "; they compare that layer's classifier with the class means of its input.")


def _accuracies(m: Measurement, original_class: np.ndarray | None) -> None:
    C = m.n_train_classes
    for split in ("train", "test"):
        z = m.logits(split)
        if z is None or z.ndim != 2 or z.shape[1] != C:
            m.numbers[f"{split}_acc"] = None
            continue
        pred = np.argmax(z, axis=1)
        m.numbers[f"{split}_acc"] = float(np.mean(pred == m.labels(split, "train")))
        if split == "test" and original_class is not None:
            m.numbers["test_acc_original"] = float(np.mean(original_class[pred] == m.labels("test", "original")))


def _clp(m: Measurement, seed: int, attempt) -> None:
    try:
        result = run_metrics.clp(m, random_state=seed)
        probe = run_metrics.lpo(m, random_state=seed)
    except ValueError as exc:
        m.notes.append(f"CLP: {exc}")
        return
    m.numbers.update(clp=float(result.accuracy), lpo=float(probe.accuracy), clp_chance=float(result.chance),
                     tsne_purity=float(result.mean_purity))
    m.numbers["clp_fraction"] = run_metrics.clp_fraction(result.accuracy, probe.accuracy, result.chance)
    found = result.discovery
    if found is not None:
        overall = found.scores()
        m.numbers.update({key: overall[name] for key, name in DISCOVERY_NUMBERS.items()})
        m.discovery = {"overall": overall, "left_out": found.left_out,
                       "per_superclass": {s: {**one.scores(), "n_samples": one.n_samples}
                                          for s, one in found.per_superclass.items()}}
    if result.embeddings:
        m.tsne_panels = [{"superclass": int(s), "points": emb.points, "labels": emb.labels,
                          "purity": float(result.purity[s])} for s, emb in sorted(result.embeddings.items())]
