"""fgcore measure: a model trained elsewhere, given as an architecture and a state dict, measured like a run.

The central test trains a run with fgcore.train, saves its final weights as a plain state dict and
measures them with `fgcore measure` in a fresh process: the numbers must be those the trainer recorded
for the run's last epoch. The others check the numbers of the API against fgcore.metrics computed by
hand, that a checkpoint holding code or the wrong weights is refused with a clear message, the layer by
layer measurement of a torchvision ResNet-18, the HTML page, and the feature cache.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import fgcore
from fgcore import data as fgdata
from fgcore import metrics
from fgcore import models as fgmodels
from fgcore import run_metrics
from fgcore.cli import main
from fgcore.errors import CheckpointError, NotFoundError, UnknownNameError
from fgcore.measure import Measurement, measure
from fgcore.train import RunSpec, train

pytestmark = pytest.mark.usefixtures("one_torch_thread")

REPO = Path(__file__).resolve().parents[1]

# A run of a few seconds: an MLP on a 10-class Gaussian mixture merged into 5 superclasses.
MLP_ARGS = {"width": 16, "depth": 1}
MIXTURE = {"dim": 8, "n_per_class": 20, "sigma2": 4.0}
SPEC = dict(dataset="gaussian_mixture", data_args=MIXTURE, labeling="coarse:5", model="mlp", model_args=MLP_ARGS,
            epochs=4, batch_size=32, lr=0.05, snapshot_epochs=(0, 2, 4))
# The trainer's statistics that fgcore measure computes too (NC3 and NC4 need the head, which the MLP has).
FAMILY = ("nc1", "nc2", "nc3", "nc4", "cdnv", "equinorm", "equiangularity", "train_acc", "test_acc")


def mixture_kwargs(cache, **changes):
    return {"labeling": "coarse:5", "model_args": MLP_ARGS, "data_args": MIXTURE, "cache": cache, **changes}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A run trained by fgcore.train and its final weights as a state dict file (what a user has)."""
    folder = tmp_path_factory.mktemp("trained")
    run = train(RunSpec(**SPEC), cache=folder / "cache", device="cpu", progress=False)
    saved = torch.load(run.entry.file("checkpoint.pt"), map_location="cpu", weights_only=True)
    weights = folder / "mlp.pt"
    torch.save(saved["model"], weights)
    return run, weights


def test_measure_in_a_fresh_process_gives_the_trainers_statistics(trained, tmp_path):
    run, weights = trained
    cache, out = tmp_path / "cache", tmp_path / "page"
    argv = [sys.executable, "-m", "fgcore", "--cache", str(cache), "measure", "mlp", "gaussian_mixture",
            "--checkpoint", str(weights), "--labeling", "coarse:5", "--model-arg", "width=16", "--model-arg", "depth=1",
            "--data-arg", "dim=8", "--data-arg", "n_per_class=20", "--data-arg", "sigma2=4.0",
            "--device", "cpu", "--out", str(out), "--no-clp", "--quiet", "--json", "-"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    measured = json.loads(done.stdout)
    last = run.history[-1]
    assert last["epoch"] == SPEC["epochs"] and all(key in last for key in FAMILY)
    # The same float32 features in the same order (same evaluation batches, the CPU), then the same
    # float64 metrics: equal to summation order, far below any difference between two models.
    for key in FAMILY:
        assert measured["numbers"][key] == pytest.approx(last[key], rel=1e-9, abs=1e-12), key
    np.testing.assert_allclose(measured["distance_matrices"]["train_original"], run.distance_matrix("last", "original"),
                               rtol=1e-9)
    assert (out / "index.html").is_file() and json.loads((out / "measurement.json").read_text()) == measured

    # The features the fresh process cached are the run's own last snapshot; this call reads them.
    again = measure("mlp", "gaussian_mixture", checkpoint=weights, clp=False, **mixture_kwargs(cache))
    assert again.meta["from_cache"]
    for split in ("train", "test"):
        np.testing.assert_array_equal(again.features(split=split), run.features("last", split))
        np.testing.assert_array_equal(again.labels(split, "original"), run.labels(split, "original"))
        np.testing.assert_array_equal(again.labels(split, "train"), run.labels(split, "train"))


def test_the_numbers_are_fgcore_metrics_of_the_features_a_plain_module_gives(tmp_path):
    """A model without .features / .head: its last-layer features are the input of its final linear layer."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(8, 12), nn.ReLU(), nn.Linear(12, 12), nn.Tanh(), nn.Linear(12, 5))
    m = fgcore.measure(net, "gaussian_mixture", labeling="coarse:5", data_args=MIXTURE, cache=tmp_path,
                       clp=False)
    assert isinstance(m, Measurement)
    assert not any(module._forward_pre_hooks for module in net.modules())  # the module is as it was

    data = fgdata.load("gaussian_mixture", "train", **MIXTURE)
    x = torch.as_tensor(data.x, dtype=torch.float32)
    with torch.no_grad():
        H, logits = net[:5](x).numpy(), net(x).numpy()
    y = data.y % 5
    np.testing.assert_allclose(m.features(split="train"), H, rtol=1e-6, atol=1e-7)
    W = net[5].weight.detach().numpy()
    expected = {"nc1": metrics.nc1(H, y), "nc2": metrics.nc2(H, y), "nc3": metrics.nc3(W, H, y),
                "nc4": metrics.nc4(H, y, logits=logits), "cdnv": metrics.cdnv(H, y),
                "equinorm": metrics.equinorm(H, y), "equiangularity": metrics.equiangularity(H, y),
                "train_acc": np.mean(logits.argmax(1) == y),
                "distance_ratio": metrics.msd_ratio(H, data.y, y).overall}
    for key, value in expected.items():
        assert m.numbers[key] == pytest.approx(float(value), rel=1e-5), key
    assert m.meta["representation"] == "the input of its final linear layer '5'"
    assert "clp" not in m.numbers and "lpo" not in m.numbers  # clp=False: not run


class RunsCode:
    """Unpickling this creates a file: proof that loading ran code from the checkpoint."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_checkpoint_holding_code_is_refused_and_nothing_in_it_runs(trained, tmp_path):
    marker = tmp_path / "code-ran"
    bad = tmp_path / "model.pt"
    torch.save({"body.1.weight": torch.zeros(16, 8), "hook": RunsCode(marker)}, bad)
    with pytest.raises(CheckpointError, match=r"holds Python objects other than tensors .* not loaded"):
        measure("mlp", "gaussian_mixture", checkpoint=bad, **mixture_kwargs(tmp_path))
    assert not marker.exists()

    pickled = tmp_path / "whole-model.pt"
    torch.save(fgmodels.build("mlp", 5, (8,), **MLP_ARGS), pickled)
    with pytest.raises(CheckpointError, match=r"names fgcore\.models\.mlp\.MLP: a pickled model.*"
                                              r"torch\.save\(model\.state_dict\(\), path\)"):
        measure("mlp", "gaussian_mixture", checkpoint=pickled, **mixture_kwargs(tmp_path))


def test_a_state_dict_that_does_not_fit_is_refused_saying_what_differs(tmp_path):
    wide = tmp_path / "wide.pt"
    torch.save(fgmodels.build("mlp", 5, (8,), width=32, depth=1).state_dict(), wide)
    with pytest.raises(CheckpointError) as error:
        measure("mlp", "gaussian_mixture", checkpoint=wide, **mixture_kwargs(tmp_path))
    message = str(error.value)
    assert "does not fit model 'mlp'" in message
    assert "body.1.weight is (32, 8) in the checkpoint, (16, 8) in the model" in message
    assert "model_args" in message

    other = tmp_path / "resnet.pt"
    torch.save({"conv1.weight": torch.zeros(4, 3, 3, 3), "fc.weight": torch.zeros(5, 4)}, other)
    with pytest.raises(CheckpointError, match=r"named differently: 4 missing from the checkpoint \(body\.1\.weight.*"
                                              r"2 not in the model \(conv1\.weight; fc\.weight\)"):
        measure("mlp", "gaussian_mixture", checkpoint=other, **mixture_kwargs(tmp_path))

    with pytest.raises(NotFoundError, match="no such file"):
        measure("mlp", "gaussian_mixture", checkpoint=tmp_path / "missing.pt", **mixture_kwargs(tmp_path))

    five = tmp_path / "five.pt"
    torch.save(fgmodels.build("mlp", 5, (8,), **MLP_ARGS).state_dict(), five)
    with pytest.raises(CheckpointError, match="num_classes=3 differs from the checkpoint's head: leave it out"):
        measure("mlp", "gaussian_mixture", checkpoint=five, num_classes=3, **mixture_kwargs(tmp_path))
    for wrapped in ({"state_dict": torch.load(five)}, {f"module.{k}": v for k, v in torch.load(five).items()}):
        torch.save(wrapped, tmp_path / "wrapped.pt")  # Lightning's and DataParallel's forms load as they are
        assert measure("mlp", "gaussian_mixture", checkpoint=tmp_path / "wrapped.pt", clp=False,
                       **mixture_kwargs(tmp_path)).numbers["nc1"] > 0


@pytest.mark.parametrize("argv, message", [
    (["mlp", "gaussian_mixture", "--checkpoint", "{tmp}/missing.pt"], r"checkpoint '.*missing\.pt': no such file"),
    (["mlp", "gaussian_mixture", "--checkpoint", "{tmp}/whole.pt"], "a pickled model"),
    (["resnet81", "digits", "--checkpoint", "{tmp}/whole.pt"], "unknown model 'resnet81'. Did you mean 'resnet18'"),
    (["torchvision:resnet19", "digits", "--checkpoint", "{tmp}/whole.pt"],
     "torchvision has no architecture 'resnet19'"),
    (["mlp", "no_such_data", "--checkpoint", "{tmp}/whole.pt"], "'no_such_data' is not a known"),
    (["mlp", "digits", "--labeling", "coarse:x", "--checkpoint", "{tmp}/whole.pt"], "labeling='coarse:x'"),
])
def test_a_mistake_on_the_command_line_is_one_error_line_and_status_2(argv, message, tmp_path, capsys):
    torch.save(fgmodels.build("mlp", 5, (8,), **MLP_ARGS), tmp_path / "whole.pt")
    assert main(["--cache", str(tmp_path), "measure", *[a.replace("{tmp}", str(tmp_path)) for a in argv]]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fgcore measure: error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert re.search(message, err), err


# -- a torchvision network, layer by layer ----------------------------------------------------------
TINY_IMAGES = '''
import numpy as np

def load(split, seed=0):
    """Ten classes of 3 x 16 x 16 images, six per class: a class pattern plus noise."""
    patterns = np.random.default_rng(seed).normal(size=(10, 3, 16, 16))
    rng = np.random.default_rng([seed, split == "train"])
    y = np.repeat(np.arange(10), 6)
    return (patterns[y] + rng.normal(size=(60, 3, 16, 16))).astype(np.float32), y
'''


@pytest.fixture
def resnet(tmp_path, monkeypatch):
    """torchvision's ResNet-18 with 5 outputs and random weights, a state dict, and tiny images."""
    (tmp_path / "tiny_images.py").write_text(TINY_IMAGES)
    monkeypatch.syspath_prepend(str(tmp_path))
    import torchvision

    torch.manual_seed(0)
    net = torchvision.models.resnet18(num_classes=5).eval()
    torch.save(net.state_dict(), tmp_path / "resnet18.pt")
    return net, tmp_path


def test_layers_of_a_torchvision_resnet(resnet):
    net, folder = resnet
    kwargs = dict(labeling="coarse:5", checkpoint=folder / "resnet18.pt", normalize="none", cache=folder / "cache",
                  clp=False)
    m = measure("torchvision:resnet18", "tiny_images:load", layers="auto", **kwargs)
    names = [r["layer"] for r in m.layers]
    assert names[:4] == ["conv1", "bn1", "relu", "maxpool"] and names[-2:] == ["avgpool", "features"]
    assert "layer2.1" in names and "fc" not in names
    assert m.meta["representation"] == "the input of its final linear layer 'fc'"
    assert m.numbers["nc3"] is not None and m.numbers["nc4"] is not None  # fc reads the features

    # Each layer is streamed (no layer's features kept); it must equal fgcore.metrics on that layer's output.
    from tiny_images import load

    x, y = load("train")
    outputs = {}
    hooks = [dict(net.named_modules())[name].register_forward_hook(
        lambda module, inputs, output, name=name: outputs.__setitem__(name, output.flatten(1).double().numpy()))
        for name in ("layer2.1", "avgpool")]
    with torch.no_grad():
        net(torch.from_numpy(x))
    for hook in hooks:
        hook.remove()
    by_name = {r["layer"]: r for r in m.layers}
    for name, H in outputs.items():
        assert by_name[name]["dim"] == H.shape[1]
        assert by_name[name]["nc1"] == pytest.approx(metrics.nc1(H, y % 5), rel=1e-6), name
        assert by_name[name]["ratio"] == pytest.approx(metrics.msd_ratio(H, y, y % 5).overall, rel=1e-6), name
    assert by_name["avgpool"]["nc1"] == pytest.approx(m.numbers["nc1"], rel=1e-6)

    # The same representation named as a node of the graph (torchvision's feature extraction) ...
    named = measure("torchvision:resnet18", "tiny_images:load", layer="flatten", **kwargs)
    for key in ("nc1", "nc2", "nc3", "nc4", "cdnv", "distance_ratio"):
        assert named.numbers[key] == pytest.approx(m.numbers[key], rel=1e-6), key
    # ... and one that no classifier reads: no NC3 / NC4, and a note that says why.
    inner = measure("torchvision:resnet18", "tiny_images:load", layer="layer3", **kwargs)
    assert inner.meta["feature_dim"] == 256 and inner.numbers["nc3"] is None and inner.numbers["nc4"] is None
    assert any("not the input of the model's final linear layer" in note for note in inner.notes)
    with pytest.raises(UnknownNameError, match="has no layer 'layer5'. Did you mean"):
        measure("torchvision:resnet18", "tiny_images:load", layer="layer5", **kwargs)
    with pytest.raises(UnknownNameError, match="no layer 'layer9' for layers="):
        measure("torchvision:resnet18", "tiny_images:load", layers=["layer1", "layer9"], **kwargs)


# -- the page and the cache -------------------------------------------------------------------------
def test_the_page_shows_every_number_and_embeds_every_figure(trained, tmp_path):
    run, weights = trained
    m = measure("mlp", "gaussian_mixture", checkpoint=weights, layers="auto", **mixture_kwargs(tmp_path))
    assert m.numbers["clp"] is not None and m.tsne_panels and len(m.layers) == 3
    page = m.report(tmp_path / "out").read_text()
    for name in ("NC1", "NC2", "NC3", "NC4", "CDNV", "equinorm", "equiangularity", "CLP", "LPO", "distance ratio",
                 "cluster accuracy", "NMI", "ARI", "NMI within superclasses"):
        assert f"<b>{name}</b>" in page, name
    from fgcore.drawing.format import num

    for key in ("nc1", "nc3", "nc4", "cdnv", "clp", "distance_ratio", "cluster_acc", "nmi", "ari_within"):
        assert f">{num(m.numbers[key])}</td>" in page, key
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    # the distance matrices with their lines, t-SNE, CLP against LPO, NC1 and the ratio layer by layer
    assert len(images) == 4 and all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    assert "could not be drawn" not in page and "http://" not in page and "https://" not in page
    assert str(weights) in page and m.meta["weights_sha256"] in page


def test_clps_clusters_are_scored_like_the_literature_in_numbers_and_json(trained, tmp_path):
    """cluster accuracy with its chance level, NMI and ARI of CLP's own clusters, overall and per superclass,
    in .numbers and in to_dict() (what --json writes)."""
    run, weights = trained
    m = measure("mlp", "gaussian_mixture", checkpoint=weights, **mixture_kwargs(tmp_path))
    expected = run_metrics.clp(m, random_state=0).discovery
    assert m.numbers["cluster_acc"] == expected.cluster_accuracy and m.numbers["nmi"] == expected.nmi
    assert m.numbers["cluster_acc_chance"] == expected.chance and m.numbers["ari_within"] == expected.ari_within
    record = json.loads(json.dumps(m.to_dict()))
    assert set(record["discovery"]["per_superclass"]) == {str(s) for s in range(5)}
    assert record["discovery"]["overall"]["nmi_within"] == pytest.approx(expected.nmi_within)
    assert all(0.0 <= record["numbers"][key] <= 1.0 for key in ("cluster_acc", "cluster_acc_chance", "nmi"))


def test_features_are_cached_by_model_weights_data_and_labeling(trained, tmp_path, monkeypatch):
    run, weights = trained
    first = measure("mlp", "gaussian_mixture", checkpoint=weights, clp=False, **mixture_kwargs(tmp_path))
    assert not first.meta["from_cache"]
    entry = Path(first.meta["cache"])
    assert entry.parent == tmp_path / "measure" and (entry / "manifest.json").is_file()
    assert (tmp_path / "measure" / f"{first.key}.lock").exists()

    from fgcore.measure import extract

    def no_extraction(*args, **kwargs):
        raise AssertionError("the features were extracted again")

    monkeypatch.setattr(extract, "extract", no_extraction)
    second = measure("mlp", "gaussian_mixture", checkpoint=weights, clp=False, **mixture_kwargs(tmp_path))
    assert second.meta["from_cache"] and second.key == first.key and second.numbers == first.numbers
    np.testing.assert_array_equal(second.features(split="test"), first.features(split="test"))
    monkeypatch.undo()

    # The run's own checkpoint.pt (weights, optimiser, history) holds the same weights: the same numbers.
    whole = measure("mlp", "gaussian_mixture", checkpoint=run.entry.file("checkpoint.pt"), clp=False,
                    **mixture_kwargs(tmp_path))
    assert whole.key != first.key and whole.numbers == first.numbers

    # Other weights, another labeling or other data are other entries.
    copy = tmp_path / "copy.pt"
    state = torch.load(weights)
    state["head.bias"] = state["head.bias"] + 1.0
    torch.save(state, copy)
    keys = {first.key,
            measure("mlp", "gaussian_mixture", checkpoint=copy, clp=False, **mixture_kwargs(tmp_path)).key,
            measure("mlp", "gaussian_mixture", checkpoint=weights, clp=False,
                    **mixture_kwargs(tmp_path, labeling="random_coarse:5")).key,
            measure("mlp", "gaussian_mixture", checkpoint=weights, clp=False,
                    **{**mixture_kwargs(tmp_path), "data_args": {**MIXTURE, "sigma2": 1.0}}).key}
    assert len(keys) == 4

    # A file that no longer matches its checksum is found when read, and the entry is computed again.
    features = entry / "features.safetensors"
    data = bytearray(features.read_bytes())
    data[-1] ^= 0xFF
    features.write_bytes(bytes(data))
    again = measure("mlp", "gaussian_mixture", checkpoint=weights, clp=False, **mixture_kwargs(tmp_path))
    assert not again.meta["from_cache"]
    np.testing.assert_array_equal(again.features(split="train"), first.features(split="train"))
