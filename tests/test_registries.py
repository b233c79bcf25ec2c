"""A new data set, model, labeling and metric are one module each plus a registration, with no edit of
any fgcore file: registered from the module that defines them, or (but a metric) named by import path in
a fixture (which also reaches a process that never imported the module, such as `fgcore train` here). A
registered metric reaches the trainer's history, `fgcore measure`'s numbers and page, and the collapse
figure."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import numpy as np
import pytest

from fgcore import data as fgdata
from fgcore import labels as fglabels
from fgcore import metrics as fgmetrics
from fgcore import models as fgmodels
from fgcore import run_metrics
from fgcore.errors import UnknownNameError
from fgcore.experiments import load_experiment
from fgcore.train import RunSpec, resolve, train

REPO = Path(__file__).resolve().parents[1]

# Written as a user would: a data set (rings of points, 6 classes), a model, a labeling (classes
# paired as (c, c + C/2)) and a metric of the collapse family (Tr(Sigma_W) / Tr(Sigma_B)), each with its
# descriptor.
MODULE = '''
import math

import numpy as np
from torch import nn

from fgcore.data import Dataset, DatasetInfo
from fgcore.labels import Labeling
from fgcore.metrics import Curve, Metric


def load_rings(split, seed=0, n_per_class=30):
    rng = np.random.default_rng([seed, 0 if split == "train" else 1])
    y = np.repeat(np.arange(6), n_per_class)
    angle = 2 * np.pi * y / 6 + 0.1 * rng.normal(size=y.shape)
    x = np.stack([np.cos(angle), np.sin(angle), 0.1 * rng.normal(size=y.shape)], axis=1) * 3
    return Dataset(x=x.astype(np.float32), y=y, class_names=[f"ring{c}" for c in range(6)],
                   name="rings", split=split, source="generated")


RINGS = DatasetInfo("{prefix}rings", load_rings, "six directions on a circle", augment="none", normalize="none")


class Net(nn.Module):
    def __init__(self, num_classes, in_shape, width=8):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(in_shape), width), nn.ReLU())
        self.head = nn.Linear(width, num_classes)

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.features(x))


def build(num_classes, in_shape, width=8):
    return Net(num_classes, in_shape, width)


PAIRS = Labeling("{prefix}pairs", "class c and class c + C/2 share a label",
                 class_map=lambda n_classes, *, k, seed, superclass_map: np.arange(n_classes) % (n_classes // 2))


def trace_ratio(stats):
    between = ((stats.means - stats.global_mean) ** 2).sum(axis=1)
    return float(stats.traces.mean() / between.mean())


TRACE_RATIO = Metric("{prefix}trace_ratio", "Tr(Σ_W)/Tr(Σ_B)", "within- over between-class variance",
                     direction="falls", collapse_value=0.0, streaming=trace_ratio,
                     curve=Curve("Tr(Σ_W)/Tr(Σ_B)", style=":", panel="nc1"))


def register():
    import fgcore.data, fgcore.labels, fgcore.metrics, fgcore.models

    fgcore.data.register(RINGS)
    fgcore.models.register("{prefix}net", build)
    fgcore.labels.register(PAIRS)
    fgcore.metrics.register(TRACE_RATIO)
'''


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """The module above under a fresh name on sys.path; the registries restored afterwards."""
    name = f"user_ext_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(MODULE).replace("{prefix}", name + "_"))
    monkeypatch.syspath_prepend(str(tmp_path))
    registries = (fgdata.DATASETS, fgmodels.MODELS, fglabels.LABELINGS, fgmetrics.METRICS)
    saved = [dict(r) for r in registries]
    yield name
    for registry, before in zip(registries, saved):
        registry.clear()
        registry.update(before)


def _tiny(**fields) -> RunSpec:
    return RunSpec(**{"lr": 0.05, "epochs": 3, "batch_size": 32, "snapshot_epochs": (0, 3), **fields})


def test_registered_from_its_own_module(user_module, tmp_path):
    import importlib

    importlib.import_module(user_module).register()
    p = user_module + "_"
    assert f"{p}rings" in fgdata.DATASETS and f"{p}net" in fgmodels.MODELS and f"{p}pairs" in fglabels.LABELINGS
    spec = _tiny(dataset=f"{p}rings", model=f"{p}net", labeling=f"{p}pairs", model_args={"width": 8})
    resolved = resolve(spec)
    assert (resolved.augment, resolved.normalize) == ("none", "none")   # what the descriptor declares
    run = train(spec, cache=tmp_path / "cache")
    y = run.labels("train", "original")
    np.testing.assert_array_equal(run.labels("train", "train"), y % 3)
    np.testing.assert_array_equal(run.superclass_of, np.arange(6) % 3)
    assert run.n_train_classes == 3 and run.features("last").shape == (180, 8)
    assert run.key == resolved.key and run.spec == resolved


def test_a_metric_reaches_the_history_the_measured_numbers_the_page_and_the_figure(user_module, tmp_path):
    import importlib

    from fgcore.drawing.collapse import nc_curves
    from fgcore.measure import NUMBERS, measure

    module = importlib.import_module(user_module)
    module.register()
    p, key = user_module + "_", f"{user_module}_trace_ratio"
    run = train(_tiny(dataset=f"{p}rings", model=f"{p}net", labeling=f"{p}pairs", model_args={"width": 8}),
                cache=tmp_path / "cache")
    assert all(key in record for record in run.history if "nc1" in record)
    for epoch in run.snapshot_epochs:   # streamed by the trainer = the function on the saved features
        stats = fgmetrics.class_statistics(run.features(epoch), run.labels("train", "train"))
        np.testing.assert_allclose(run.record(epoch)[key], module.trace_ratio(stats), rtol=1e-9)
    curve = run_metrics.collapse_curve(run)
    legend = [text.get_text() for text in nc_curves(curve).axes[0].get_legend().get_texts()]
    assert curve[key] == [r[key] for r in run.history if "nc1" in r] and legend[-1].startswith("Tr(Σ_W)/Tr(Σ_B): ")

    m = measure(f"{p}net", f"{p}rings", f"{p}pairs", checkpoint=run.path / "checkpoint.pt",
                model_args={"width": 8}, cache=tmp_path / "measure", clp=False)
    np.testing.assert_allclose(m.numbers[key], run.record("last")[key], rtol=1e-9)
    assert list(m.numbers)[:8] == [*fgmetrics.METRICS] and NUMBERS[key] == (
        "Tr(Σ_W)/Tr(Σ_B)", "within- over between-class variance", "→ 0")
    assert f"<b>Tr(Σ_W)/Tr(Σ_B)</b>" in m.report(tmp_path / "page.html").read_text()


def test_named_by_import_path_in_a_fixture(user_module, tmp_path, monkeypatch):
    """Nothing registered: the fixture names the descriptors by import path, and `fgcore train` in a
    fresh process (which never imported the module) trains it."""
    folder = tmp_path / "fixtures"
    folder.mkdir()
    (folder / "mine.toml").write_text(textwrap.dedent(f'''
        description = "a user's data set, model and labeling"
        tier = "fast"
        tags = []
        [spec]
        dataset = "{user_module}:RINGS"
        model = "{user_module}:build"
        labeling = "{user_module}:PAIRS"
        model_args = {{ width = 8 }}
        lr = 0.05
        epochs = 3
        batch_size = 32
        snapshot_epochs = [0, 3]
    '''))
    monkeypatch.setenv("FGCORE_FIXTURES", str(folder))
    (point, spec), = load_experiment("mine").runs()
    assert (spec.augment, spec.normalize) == ("none", "none")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)]), "FGCORE_CACHE": str(tmp_path / "c")}
    done = subprocess.run([sys.executable, "-m", "fgcore", "train", "mine", "--quiet"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert spec.key[:12] in done.stdout
    run = train(spec, cache=tmp_path / "c")   # the cache entry the other process wrote
    np.testing.assert_array_equal(run.labels("test", "train"), run.labels("test", "original") % 3)


def test_auto_follows_the_shape_where_a_data_set_declares_nothing(tmp_path):
    spec = _tiny(dataset="fgcore.examples.blobs:load", model="fgcore.examples.tiny_net:build", labeling="coarse:5")
    assert (spec.augment, spec.normalize) == ("auto", "auto")
    assert (resolve(spec).augment, resolve(spec).normalize) == ("none", "none")   # (n, 16) vectors
    images = _tiny(dataset="fgcore.train.gpu_check:synthetic_cifar10", data_args={"n_train": 20, "n_test": 10},
                   model="small_cnn", labeling="coarse:5")
    assert (resolve(images).augment, resolve(images).normalize) == ("crop_flip", "per_channel")   # 3x32x32


def test_resolving_is_pure_and_idempotent(monkeypatch, tmp_path):
    from PIL import Image

    from fgcore.data.cifar_classes import CIFAR10_CLASSES

    for split in ("train", "test"):
        for name in CIFAR10_CLASSES:
            (tmp_path / "copy" / split / name).mkdir(parents=True)
            Image.new("RGB", (32, 32)).save(tmp_path / "copy" / split / name / "0.png")
    spec = _tiny(dataset="cifar10", model="resnet18", labeling="coarse:5")
    key = spec.key
    monkeypatch.setenv("FGCORE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("FGCORE_CIFAR10", f"image_folder:{tmp_path / 'copy'}")
    assert spec.key == key                          # the key of a spec never reads the environment
    copy = resolve(spec)
    assert copy.data_args["source"] == f"image_folder:{tmp_path / 'copy'}" and copy.augment == "crop_flip"
    assert copy.data_digest is not None             # the copy is known by its content
    assert resolve(copy) == copy and copy.key != key
    monkeypatch.setenv("FGCORE_CIFAR10", f"image_folder:{tmp_path / 'nowhere'}")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve(spec)                               # training needs the data: said at once
    assert resolve(spec, missing_data="keep").data_digest is None   # loading an experiment does not
    monkeypatch.setenv("FGCORE_CIFAR10", f"image_folder:{tmp_path / 'copy'}")
    monkeypatch.setenv("FGCORE_CIFAR10", "official")
    official = resolve(spec)
    assert official.data_args["source"] == "official" and official.key != copy.key
    assert resolve(copy) == copy                    # a resolved spec keeps its source


@pytest.mark.parametrize("field, value, message", [
    ("dataset", "mnist", "not a known data set; valid names: digits"),
    ("labeling", "coarse5", "valid labelings: coarse:K"),
    ("loss", "hinge", "valid losses: cross_entropy, unhinged"),
])
def test_unknown_names_are_one_kind_of_error(field, value, message):
    spec = _tiny(**{"dataset": "digits", "model": "mlp", "labeling": "coarse:5", field: value})
    with pytest.raises(UnknownNameError, match=message):
        resolve(spec)
    with pytest.raises(UnknownNameError, match="unknown model 'resnet19'. Did you mean 'resnet18'"):
        fgmodels.build("resnet19", 10, (3, 32, 32))


def test_a_name_is_registered_once(monkeypatch):
    monkeypatch.setitem(fgdata.DATASETS, "digits", fgdata.DATASETS["digits"])   # restored afterwards
    digits = fgdata.DATASETS["digits"]
    assert fgdata.register(digits) is digits                      # the same descriptor again: fine
    other = fgdata.DatasetInfo("digits", digits.load, "another loader")
    with pytest.raises(ValueError, match="a data set named 'digits' is already registered; pass replace=True"):
        fgdata.register(other)
    assert fgdata.register(other, replace=True) is other and fgdata.get("digits") is other
    with pytest.raises(ValueError, match="without ':'"):
        fgmodels.register("mine:net", fgmodels.MODELS["mlp"])   # ':' belongs to import paths
