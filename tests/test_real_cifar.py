"""The cifar10 experiments' code path on real CIFAR-10 images, on the CPU: the class-per-folder loader
(FGCORE_CIFAR10=image_folder:<path>), crop and flip, ResNet-18, snapshots and the streamed statistics,
for one epoch on 240 images taken from the JPEG copy of CIFAR-10. A broken loader or a shape error on
the way to the GPU shows here, in CI, not on a researcher's GPU.

The copy is ../shared/data/cifar10-jpeg.tar.gz next to the checkout, or $FGCORE_CIFAR10_TARBALL; the
test skips, saying so, where neither exists (never downloads).
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import numpy as np
import pytest

from fgcore import metrics
from fgcore.experiments import load_experiment
from fgcore.train import device_data, loop, train

REPO = Path(__file__).resolve().parents[1]
PER_CLASS = {"train": 16, "test": 8}  # 160 training and 80 test images: one epoch of ResNet-18 in ~20 s on 2 cores


def _tarball() -> Path | None:
    candidates = [os.environ.get("FGCORE_CIFAR10_TARBALL"), REPO.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


@pytest.fixture(scope="module")
def cifar10_folder(tmp_path_factory) -> Path:
    """The first PER_CLASS images of every class of each split, in the archive's own layout
    (cifar_jpg/<split>/<class>/NNNN.jpg), extracted by streaming the archive once."""
    tarball = _tarball()
    if tarball is None:
        pytest.skip("no CIFAR-10 JPEG copy: neither $FGCORE_CIFAR10_TARBALL nor "
                    f"{REPO.parent / 'shared' / 'data' / 'cifar10-jpeg.tar.gz'} exists")
    out = tmp_path_factory.mktemp("cifar10")
    taken: dict[tuple[str, str], int] = {}
    with tarfile.open(tarball, "r|gz") as archive:
        for member in archive:
            parts = Path(member.name).parts  # cifar_jpg, split, class, file
            if not member.isfile() or len(parts) != 4 or parts[1] not in PER_CLASS:
                continue
            key = (parts[1], parts[2])
            if taken.get(key, 0) >= PER_CLASS[parts[1]]:
                continue
            taken[key] = taken.get(key, 0) + 1
            target = out.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.extractfile(member).read())
            if len(taken) == 20 and all(n == PER_CLASS[split] for (split, _), n in taken.items()):
                break
    counts = {split: sum(n for (s, _), n in taken.items() if s == split) for split in PER_CLASS}
    assert counts == {split: 10 * k for split, k in PER_CLASS.items()}, f"unexpected archive layout: {taken}"
    return out / "cifar_jpg"


def test_cifar10_experiment_runs_end_to_end_on_real_images(cifar10_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("FGCORE_CIFAR10", f"image_folder:{cifar10_folder}")
    monkeypatch.setenv("FGCORE_CACHE", str(tmp_path))  # the loader's decode cache
    augmented = []
    original = device_data.draw_epoch
    monkeypatch.setattr(loop, "draw_epoch", lambda *a, augment, **k: augmented.append(augment) or
                        original(*a, augment=augment, **k))
    spec = load_experiment("cifar10-resnet18-coarse").run_specs("quick")[0]
    assert (spec.dataset, spec.model, spec.augment, spec.labeling) == ("cifar10", "resnet18", "crop_flip", "coarse:5")
    # One epoch; float32 because bf16 convolutions on a CPU without bf16 units take minutes (the bf16
    # branch runs on the CPU in tests/test_gpu_path.py).
    spec = spec.replace(epochs=1, precision="float32")
    run = train(spec, cache=tmp_path, device="cpu")

    assert augmented == [True]
    assert "CIFAR-10" in run.meta["data_source"] and "JPEG" in run.meta["data_source"]
    assert run.class_names[:3] == ["airplane", "automobile", "bird"] and run.n_classes == 10
    assert run.snapshot_epochs == (0, 1)
    y, y_original = run.labels("train", "train"), run.labels("train", "original")
    np.testing.assert_array_equal(np.bincount(y_original), [16] * 10)
    np.testing.assert_array_equal(y, y_original % 5)
    for epoch in run.snapshot_epochs:
        H = run.features(epoch, "train")
        assert H.shape == (160, 512) and run.features(epoch, "test").shape == (80, 512)
        assert np.isfinite(H).all() and H.std() > 0
        record = run.record(epoch)
        assert record["nc1"] == pytest.approx(metrics.nc1(H, y), rel=1e-6)
        assert record["nc2"] == pytest.approx(metrics.nc2(H, y), rel=1e-6)
        np.testing.assert_allclose(run.distance_matrix(epoch, "original"),
                                   metrics.class_distance_matrix(H, y_original), rtol=1e-6)
    assert not np.array_equal(run.features(0), run.features(1))  # the epoch trained the network
