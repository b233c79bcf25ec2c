"""Readers of every official format, on tiny files written here; subsets; availability; error messages.

Nothing is downloaded: every test runs with FGCORE_DATA / FGCORE_CACHE pointed into tmp_path and
the system Fashion-MNIST folder pointed at an empty place, so data installed on the machine is
never read by accident.
"""

from __future__ import annotations

import gzip
import os
import pickle
import re
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fgcore.data import DATASETS, Dataset, check, format_statuses, load, prepare, stratified_subset
from fgcore.data import cifar, idx, paths
from fgcore.data import status as data_status
from fgcore.data.cifar_classes import CIFAR10_CLASSES, CIFAR100_CLASSES, CIFAR100_SUPERCLASS_MAP
from fgcore.data.idx import FASHION_MNIST_CLASSES, read_idx

# The archive's 20 coarse label names, in its order (the meta file the tests write carries them).
CIFAR100_SUPERCLASSES = (
    "aquatic_mammals", "fish", "flowers", "food_containers", "fruit_and_vegetables",
    "household_electrical_devices", "household_furniture", "insects", "large_carnivores",
    "large_man-made_outdoor_things", "large_natural_outdoor_scenes", "large_omnivores_and_herbivores",
    "medium_mammals", "non-insect_invertebrates", "people", "reptiles", "small_mammals", "trees",
    "vehicles_1", "vehicles_2",
)  # fmt: skip


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No real data, no real cache: everything under tmp_path."""
    monkeypatch.setenv("FGCORE_DATA", str(tmp_path / "data_home"))
    monkeypatch.setenv("FGCORE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("FGCORE_CIFAR10", raising=False)
    monkeypatch.setattr(paths, "SYSTEM_FASHION_MNIST_DIR", tmp_path / "no-system-dir")
    return tmp_path


# ----------------------------------------------------------------------------- writers (official formats)


def write_idx(path: Path, array: np.ndarray, compress: bool = True) -> None:
    """idx: 0x0000, type 0x08 (uint8), ndim, big-endian uint32 dims, then the bytes."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    if compress:
        with gzip.open(path, "wb") as f:
            f.write(payload)
    else:
        path.write_bytes(payload)


def make_fashion(folder: Path, n_train=20, n_test=10, compress=True, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if compress else ""
    out = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        write_idx(folder / f"{prefix}-images-idx3-ubyte{ext}", images, compress)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{ext}", labels, compress)
        out[prefix] = (images, labels)
    return out


def _pickle(path: Path, obj) -> None:
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=2)


def make_cifar10(root: Path, per_batch=3, n_test=4, seed=0):
    """cifar-10-batches-py with the official keys (bytes), data rows R plane | G plane | B plane."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    batches = {}
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        n = n_test if name == "test_batch" else per_batch
        data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        labels = [int(v) for v in (np.arange(n) + i) % 10]
        _pickle(folder / name, {b"batch_label": name.encode(), b"labels": labels, b"data": data, b"filenames": []})
        batches[name] = (data, labels)
    _pickle(folder / "batches.meta", {b"label_names": [c.encode() for c in CIFAR10_CLASSES], b"num_vis": 3072})
    return folder, batches


def make_cifar100(root: Path, fine_labels, seed=0, coarse_labels=None):
    rng = np.random.default_rng(seed)
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True, exist_ok=True)
    fine = np.asarray(fine_labels)
    coarse = CIFAR100_SUPERCLASS_MAP[fine] if coarse_labels is None else np.asarray(coarse_labels)
    data = rng.integers(0, 256, size=(len(fine), 3072), dtype=np.uint8)
    for name in ("train", "test"):
        _pickle(folder / name, {b"data": data, b"fine_labels": fine.tolist(), b"coarse_labels": coarse.tolist()})
    _pickle(folder / "meta", {
        b"fine_label_names": [c.encode() for c in CIFAR100_CLASSES],
        b"coarse_label_names": [c.encode() for c in CIFAR100_SUPERCLASSES],
    })
    return folder, data, fine, coarse


def make_image_folder(root: Path, classes, per_split=None, size=(6, 5), ext=".png", mode="RGB", seed=0):
    """root/<split>/<class>/<i>.<ext>, random pixels; returns {split: [(class, i, array HWC)]}."""
    per_split = per_split or {"train": 3, "test": 1}
    rng = np.random.default_rng(seed)
    written = {}
    for split, k in per_split.items():
        written[split] = []
        for c in classes:
            d = root / split / c
            d.mkdir(parents=True, exist_ok=True)
            for i in range(k):
                shape = (size[1], size[0]) if mode == "L" else (size[1], size[0], 3)
                arr = rng.integers(0, 256, size=shape, dtype=np.uint8)
                Image.fromarray(arr, mode=mode).save(d / f"{i}{ext}")
                written[split].append((c, i, arr))
    return written


# ----------------------------------------------------------------------------- digits


def test_digits_split_is_fixed_stratified_and_complete():
    train, test = load("digits", "train"), load("digits", "test")
    assert (len(train), len(test)) == (1347, 450)  # 25% test, stated in fgcore.data.digits
    assert train.x.dtype == np.float32 and train.x.shape[1:] == (1, 8, 8)
    assert 0.0 <= train.x.min() and train.x.max() <= 1.0 and train.x.max() == 1.0
    assert train.class_names == tuple("0123456789") and train.source == "sklearn"
    # Stratified: each class's test share within one example of 25%.
    for c in range(10):
        n_tr, n_te = (train.y == c).sum(), (test.y == c).sum()
        assert abs(n_te - 0.25 * (n_tr + n_te)) <= 1
    # The split does not depend on the run's seed, and train/test are disjoint and cover everything.
    again = load("digits", "train", seed=123)
    np.testing.assert_array_equal(again.x, train.x)
    from sklearn.datasets import load_digits

    everything = load_digits().images.reshape(len(train) + len(test), -1) / 16.0
    ours = np.concatenate([train.x, test.x]).reshape(len(everything), -1)
    as_rows = lambda a: {r.tobytes() for r in np.round(a * 16).astype(np.uint8)}
    assert as_rows(ours) == as_rows(everything)


def test_digits_options_change_the_split():
    other = load("digits", "test", test_fraction=0.5, split_seed=1)
    assert len(other) in (898, 899)
    with pytest.raises(ValueError, match="test_fraction"):
        load("digits", "test", test_fraction=1.5)


# ----------------------------------------------------------------------------- Fashion-MNIST (idx)


@pytest.mark.parametrize("compress", [True, False])
def test_fashion_mnist_reads_idx_files(isolated, compress):
    written = make_fashion(isolated / "fm", compress=compress)
    ds = load("fashion_mnist", "train", root=isolated / "fm")
    images, labels = written["train"]
    assert ds.x.dtype == np.uint8 and ds.x.shape == (20, 1, 28, 28)
    np.testing.assert_array_equal(ds.x[:, 0], images)
    np.testing.assert_array_equal(ds.y, labels.astype(np.int64))
    assert ds.y.dtype == np.int64 and ds.class_names == FASHION_MNIST_CLASSES
    assert ds.source == str(isolated / "fm")
    test = load("fashion_mnist", "test", root=isolated / "fm")
    np.testing.assert_array_equal(test.x[:, 0], written["t10k"][0])


def test_fashion_mnist_natural_groups():
    make_fashion(Path(os.environ["FGCORE_DATA"]) / "fashion-mnist")  # found via $FGCORE_DATA/fashion-mnist
    ds = load("fashion_mnist", "train")
    groups = dict(zip(ds.superclass_names, ([0, 2, 3, 4, 6], [5, 7, 9], [1], [8])))
    assert set(groups) == {"tops", "footwear", "trouser", "bag"}
    for s, name in enumerate(ds.superclass_names):
        assert sorted(np.flatnonzero(ds.superclass_map == s)) == groups[name]
    np.testing.assert_array_equal(ds.superclass, ds.superclass_map[ds.y])


def test_fashion_mnist_search_order_prefers_root(isolated):
    make_fashion(Path(os.environ["FGCORE_DATA"]), seed=1)
    make_fashion(isolated / "mine", seed=2)
    assert load("fashion_mnist", "train", root=isolated / "mine").source == str(isolated / "mine")
    assert load("fashion_mnist", "train").source == os.environ["FGCORE_DATA"]
    make_fashion(isolated / "tv" / "FashionMNIST" / "raw")  # torchvision's layout under a root
    assert load("fashion_mnist", "test", root=isolated / "tv").source.endswith("raw")


def test_fashion_mnist_missing_says_where_and_how(isolated):
    with pytest.raises(FileNotFoundError) as err:
        load("fashion_mnist", "train", root=isolated / "empty")
    message = str(err.value)
    assert str(isolated / "empty") in message and os.environ["FGCORE_DATA"] in message
    assert str(isolated / "no-system-dir") in message
    assert "apt-get install -y dataset-fashion-mnist" in message


def test_idx_rejects_bad_files(tmp_path):
    bad = tmp_path / "bad.gz"
    with gzip.open(bad, "wb") as f:
        f.write(b"\x01\x02\x08\x01" + b"\x00" * 8)
    with pytest.raises(ValueError, match="not an idx file"):
        read_idx(bad)
    short = tmp_path / "short"
    short.write_bytes(bytes([0, 0, 8, 1]) + np.array([5], dtype=">u4").tobytes() + b"\x00" * 3)
    with pytest.raises(ValueError, match="5 bytes"):
        read_idx(short)


# ----------------------------------------------------------------------------- CIFAR-10 / CIFAR-100 archives


def test_cifar10_reads_the_official_batches(isolated):
    folder, batches = make_cifar10(isolated / "root")
    ds = load("cifar10", "train", root=isolated / "root")
    data = np.concatenate([batches[f"data_batch_{k}"][0] for k in range(1, 6)])
    labels = sum((batches[f"data_batch_{k}"][1] for k in range(1, 6)), [])
    assert ds.x.dtype == np.uint8 and ds.x.shape == (15, 3, 32, 32)
    np.testing.assert_array_equal(ds.y, labels)
    # Row layout: 1024 red, 1024 green, 1024 blue, each row-major 32x32.
    assert ds.x[4, 0, 0, 1] == data[4, 1] and ds.x[4, 1, 0, 0] == data[4, 1024] and ds.x[4, 2, 1, 0] == data[4, 2048 + 32]
    assert ds.class_names == CIFAR10_CLASSES and ds.source == str(folder) and ds.superclass is None
    test = load("cifar10", "test", root=folder)  # root may be the batches folder itself
    np.testing.assert_array_equal(test.x.reshape(4, -1), batches["test_batch"][0])


def test_cifar10_reads_the_unextracted_tarball(isolated):
    folder, batches = make_cifar10(isolated / "build")
    home = Path(os.environ["FGCORE_DATA"])
    home.mkdir()
    with tarfile.open(home / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    ds = load("cifar10", "test")
    assert ds.source.endswith("cifar-10-python.tar.gz")
    np.testing.assert_array_equal(ds.x.reshape(4, -1), batches["test_batch"][0])


def test_cifar100_gives_fine_labels_and_official_superclasses(isolated):
    fine = [0, 1, 4, 30, 55, 72, 99, 4]
    folder, data, fine, coarse = make_cifar100(isolated, fine)
    ds = load("cifar100", "train", root=isolated)
    np.testing.assert_array_equal(ds.y, fine)
    np.testing.assert_array_equal(ds.superclass, coarse)  # straight from the archive's coarse_labels
    assert ds.class_names == CIFAR100_CLASSES and ds.superclass_names == CIFAR100_SUPERCLASSES
    assert ds.n_classes == 100 and len(ds.superclass_names) == 20
    assert ds.superclass_names[ds.superclass[3]] == "aquatic_mammals"  # dolphin
    np.testing.assert_array_equal(ds.superclass_map, CIFAR100_SUPERCLASS_MAP)
    np.testing.assert_array_equal(ds.x.reshape(len(fine), -1), data)


def test_cifar100_rejects_inconsistent_coarse_labels(isolated):
    make_cifar100(isolated, [3, 3], coarse_labels=[8, 9])
    with pytest.raises(ValueError, match="two coarse labels"):
        load("cifar100", "test", root=isolated)


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_cifar_missing_says_where_and_how(isolated, name):
    with pytest.raises(FileNotFoundError) as err:
        load(name, "train", root=isolated / "nothing")
    message = str(err.value)
    assert str(isolated / "nothing") in message and os.environ["FGCORE_DATA"] in message
    assert str(isolated / "cache" / "data") in message and "download=True" in message


# ----------------------------------------------------------------------------- image folders


def test_image_folder_png_is_read_exactly_with_sorted_classes(isolated):
    written = make_image_folder(isolated / "tree", ["zebra", "ant", "moose"])
    ds = load(f"image_folder:{isolated / 'tree'}", "train")
    assert ds.class_names == ("ant", "moose", "zebra")  # sorted: no known order applies
    assert ds.x.dtype == np.uint8 and ds.x.shape == (9, 3, 5, 6)
    expected = sorted(written["train"], key=lambda t: (ds.class_names.index(t[0]), t[1]))
    for k, (c, _, arr) in enumerate(expected):
        assert ds.class_names[ds.y[k]] == c
        np.testing.assert_array_equal(ds.x[k], arr.transpose(2, 0, 1))
    assert ds.name == f"image_folder:{isolated / 'tree'}" and ds.source == str(isolated / "tree")


def test_image_folder_grayscale_jpeg_and_natural_file_order(isolated):
    root = isolated / "gray"
    d = root / "train" / "only"
    d.mkdir(parents=True)
    for i in (10, 2, 1):  # natural order: 1, 2, 10
        Image.fromarray(np.full((4, 4), 20 * i, dtype=np.uint8), mode="L").save(d / f"{i}.jpg", quality=95)
    ds = load(f"image_folder:{root}", "train")
    assert ds.x.shape == (3, 1, 4, 4)
    np.testing.assert_allclose(ds.x[:, 0, 0, 0], [20, 40, 200], atol=2)  # flat JPEG: within 2 levels


def test_image_folder_cache_is_written_reused_and_invalidated(isolated):
    root = isolated / "tree"
    make_image_folder(root, ["a", "b"])
    first = load(f"image_folder:{root}", "train")
    cache_file = Path(first.meta["cache_file"])
    assert not first.meta["from_cache"] and cache_file.is_file()
    assert cache_file.parent == isolated / "cache" / "data"
    assert not list(cache_file.parent.glob("*.tmp"))  # atomic: no temp file left behind
    second = load(f"image_folder:{root}", "train")
    assert second.meta["from_cache"]
    np.testing.assert_array_equal(second.x, first.x)
    # A changed file (new mtime and content) gives a new key: decoded again, not read stale.
    changed = root / "train" / "a" / "0.png"
    Image.fromarray(np.zeros((5, 6, 3), dtype=np.uint8)).save(changed)
    os.utime(changed, ns=(1, 1))
    third = load(f"image_folder:{root}", "train")
    assert not third.meta["from_cache"] and third.x[0].max() == 0
    # A truncated cache file is ignored and rewritten, never read as valid.
    bad = Path(third.meta["cache_file"])
    bad.write_bytes(bad.read_bytes()[:100])
    fourth = load(f"image_folder:{root}", "train")
    assert not fourth.meta["from_cache"]
    np.testing.assert_array_equal(fourth.x, third.x)
    assert not load(f"image_folder:{root}", "train", cache=False).meta["from_cache"]


def test_image_folder_pil_fallback_decodes_the_same_pixels(isolated, monkeypatch):
    from fgcore.data import image_folder

    root = isolated / "tree"
    make_image_folder(root, ["a", "b"], ext=".jpg", size=(8, 8))
    fast = load(f"image_folder:{root}", "train", cache=False)
    monkeypatch.setattr(image_folder, "_decode_torchvision", lambda chunk, mode: None)
    slow = load(f"image_folder:{root}", "train", cache=False)
    np.testing.assert_array_equal(slow.x, fast.x)
    (root / "train" / "a" / "9.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match="cannot decode .*9.jpg"):
        load(f"image_folder:{root}", "train", cache=False)


def test_image_folder_train_and_test_agree_on_class_indices(isolated):
    root = isolated / "tree"
    make_image_folder(root, ["a", "c"], per_split={"train": 1})
    make_image_folder(root, ["b", "c"], per_split={"test": 1})
    train, test = load(f"image_folder:{root}", "train"), load(f"image_folder:{root}", "test")
    assert train.class_names == test.class_names == ("a", "b", "c")
    assert sorted(set(train.y)) == [0, 2] and sorted(set(test.y)) == [1, 2]


def test_image_folder_errors(isolated):
    with pytest.raises(FileNotFoundError, match=re.escape(str(isolated / "nope" / "train"))):
        load(f"image_folder:{isolated / 'nope'}", "train")
    root = isolated / "mixed"
    make_image_folder(root, ["a"], size=(4, 4))
    make_image_folder(root, ["b"], size=(5, 4))
    with pytest.raises(ValueError, match="same size"):
        load(f"image_folder:{root}", "train")
    with pytest.raises(ValueError, match="needs a path"):
        load("image_folder:", "train")


def test_cifar10_from_the_jpeg_copy_via_environment(isolated, monkeypatch):
    root = isolated / "cifar_jpg"
    make_image_folder(root, list(reversed(CIFAR10_CLASSES)), per_split={"train": 2, "test": 1},
                      size=(32, 32), ext=".jpg")
    monkeypatch.setenv("FGCORE_CIFAR10", f"image_folder:{root}")
    ds = load("cifar10", "train")
    assert ds.name == "cifar10" and ds.source == "CIFAR-10 (JPEG copy)"
    assert ds.class_names == CIFAR10_CLASSES and ds.x.shape == (20, 3, 32, 32)
    np.testing.assert_array_equal(np.bincount(ds.y), [2] * 10)
    assert load("cifar10", "test", subset=10).source == "CIFAR-10 (JPEG copy)"
    # The option beats the environment; a bad value says what is valid.
    make_cifar10(isolated / "official")
    official = load("cifar10", "test", root=isolated / "official", source="official")
    assert official.source.endswith("cifar-10-batches-py")
    monkeypatch.setenv("FGCORE_CIFAR10", "somewhere")
    with pytest.raises(ValueError, match="image_folder:<path>"):
        load("cifar10", "train")


def test_cifar10_image_folder_must_hold_cifar10_classes(isolated):
    make_image_folder(isolated / "other", ["cat", "dog"], size=(32, 32))
    with pytest.raises(ValueError, match="not the CIFAR-10 classes"):
        load("cifar10", "train", source=f"image_folder:{isolated / 'other'}")


# ----------------------------------------------------------------------------- subsets


def test_subset_is_stratified_seeded_and_within_the_split():
    y = np.repeat(np.arange(4), [40, 30, 20, 10])
    idx = stratified_subset(y, 50, seed=0)
    assert len(idx) == 50 and len(set(idx)) == 50 and np.all(np.diff(idx) > 0)
    np.testing.assert_array_equal(np.bincount(y[idx]), [20, 15, 10, 5])  # exactly proportional here
    np.testing.assert_array_equal(idx, stratified_subset(y, 50, seed=0))
    assert not np.array_equal(idx, stratified_subset(y, 50, seed=1))
    # Rare classes keep at least one example; the total is exact.
    tiny = stratified_subset(np.repeat(np.arange(3), [98, 1, 1]), 5, seed=3)
    np.testing.assert_array_equal(np.bincount(np.repeat(np.arange(3), [98, 1, 1])[tiny]), [3, 1, 1])


def test_load_subset_is_stratified_seeded_and_keeps_metadata():
    ds = load("digits", "train", subset=100, seed=7)
    assert len(ds) == 100 and ds.meta["subset"] == 100 and ds.meta["n_full"] == 1347
    assert np.bincount(ds.y).min() >= 9  # about 10 per class: stratified, not a random slice
    np.testing.assert_array_equal(load("digits", "train", subset=100, seed=7).x, ds.x)
    assert not np.array_equal(load("digits", "train", subset=100, seed=8).x, ds.x)
    gm = load("gaussian_mixture", "train", subset=30, dim=3)
    np.testing.assert_array_equal(gm.superclass, gm.superclass_map[gm.y])


@pytest.mark.parametrize(
    "subset, message",
    [(0, "empty"), (5, "smaller than the number of classes"), (10**6, "larger than the split"),
     (True, "integer"), (12.0, "integer")],
)
def test_subset_errors_name_the_argument(subset, message):
    with pytest.raises(ValueError, match=f"subset=.*{message}|subset must.*{message}"):
        load("digits", "test", subset=subset)


# ----------------------------------------------------------------------------- names, splits, options


def test_unknown_name_split_and_option_list_the_valid_ones():
    with pytest.raises(ValueError) as err:
        load("mnist", "train")
    for valid in [*DATASETS, "image_folder:<path>"]:
        assert valid in str(err.value)
    with pytest.raises(ValueError, match="split='validation'.*train, test"):
        load("digits", "validation")
    with pytest.raises(ValueError, match="unknown option.*sigma.*valid options: .*sigma2"):
        load("gaussian_mixture", "train", sigma=3)
    with pytest.raises(ValueError, match=r"valid options: \(none\)"):
        load("cifar100", "train", colour=True)


def test_dataset_validates_its_fields():
    with pytest.raises(ValueError, match="labels must lie in"):
        Dataset(x=np.zeros((2, 1)), y=np.array([0, 3]), class_names=("a", "b"), name="t", split="train", source="t")
    with pytest.raises(ValueError, match="rows"):
        Dataset(x=np.zeros((3, 1)), y=np.array([0, 1]), class_names=("a", "b"), name="t", split="train", source="t")
    ds = Dataset(x=np.zeros((2, 1)), y=np.array([0, 1]), class_names=("a", "b"), name="t", split="train", source="t")
    assert ds.n_classes == 2 and ds.y.dtype == np.int64 and ds.superclass_map is None
    with pytest.raises(Exception):
        ds.name = "other"  # frozen


# ----------------------------------------------------------------------------- availability


def test_check_reports_every_data_set_and_prints():
    statuses = check()
    assert [s.name for s in statuses] == list(DATASETS)
    by_name = {s.name: s for s in statuses}
    assert by_name["digits"].present and by_name["gaussian_mixture"].present
    missing = by_name["fashion_mnist"]
    assert not missing.present and "apt-get install" in missing.how_to_get
    assert os.environ["FGCORE_DATA"] + "/fashion-mnist" in missing.looked_in
    text = format_statuses(statuses)
    assert "fashion_mnist: MISSING" in text and "cifar100: MISSING" in text and "digits: present" in text
    assert "FGCORE_CIFAR10=image_folder:" in str(by_name["cifar10"])


def test_check_sees_data_once_it_is_there(isolated, monkeypatch):
    make_fashion(Path(os.environ["FGCORE_DATA"]))
    make_cifar100(isolated / "cache" / "data", [0, 1])
    monkeypatch.setenv("FGCORE_CIFAR10", f"image_folder:{isolated / 'jpg'}")
    make_image_folder(isolated / "jpg", ["a"], per_split={"train": 1, "test": 1})
    by_name = {s.name: s for s in check()}
    assert by_name["fashion_mnist"].present and by_name["fashion_mnist"].location == os.environ["FGCORE_DATA"]
    assert by_name["cifar100"].present and by_name["cifar10"].present
    assert "FGCORE_CIFAR10" in by_name["cifar10"].note


def test_prepare_fashion_mnist_without_root_gives_the_instruction(monkeypatch):
    monkeypatch.setattr(data_status, "is_root", lambda: False)
    monkeypatch.setattr(data_status, "run_command", lambda cmd: pytest.fail("must not run commands when not root"))
    status = prepare("fashion_mnist")
    assert not status.present and "sudo apt-get install dataset-fashion-mnist" in str(status)


def test_prepare_fashion_mnist_as_root_installs_the_debian_package(monkeypatch, isolated):
    ran = []

    def fake_apt(cmd):  # stands in for apt-get: "installs" by writing the files to the system folder
        ran.append(cmd)
        if cmd[:2] == ["apt-get", "install"]:
            make_fashion(paths.SYSTEM_FASHION_MNIST_DIR)
        return 0

    monkeypatch.setattr(data_status, "is_root", lambda: True)
    monkeypatch.setattr(idx.shutil, "which", lambda name: "/usr/bin/" + name)
    monkeypatch.setattr(data_status, "run_command", fake_apt)
    status = prepare("fashion_mnist")
    assert ran == [["apt-get", "update"], ["apt-get", "install", "-y", "dataset-fashion-mnist"]]
    assert status.present and "installed" in status.note
    assert prepare("fashion_mnist").note.startswith("already present")


def test_prepare_cifar_reports_a_failed_download(monkeypatch):
    def offline(name):
        raise OSError("no network")

    monkeypatch.setattr(cifar, "_download", offline)
    status = prepare("cifar100")
    assert not status.present and "no network" in str(status) and "download=True" in status.how_to_get
    with pytest.raises(ValueError, match="valid names"):
        prepare("imagenet")
    assert prepare("theory_clusters").present


# ----------------------------------------------------------------------------- data by content, not by path


def test_the_same_images_in_two_folders_are_one_run_and_one_decode(isolated, monkeypatch):
    """A JPEG copy extracted twice (another folder, other timestamps): one digest, one cache key, one
    decode; a changed image is other data."""
    import shutil

    from fgcore.data import image_folder
    from fgcore.train import RunSpec, resolve, train

    first, second = isolated / "a" / "cifar_jpg", isolated / "b" / "cifar_jpg"
    make_image_folder(first, list(CIFAR10_CLASSES), per_split={"train": 3, "test": 1}, size=(32, 32), ext=".jpg")
    shutil.copytree(first, second)          # new mtimes
    os.utime(second / "train" / "cat" / "0.jpg", ns=(10**9, 10**9))
    assert image_folder.content_digest(str(first)) == image_folder.content_digest(str(second))

    spec = RunSpec(dataset="cifar10", labeling="coarse:5", model="mlp", model_args={"width": 8}, epochs=1,
                   batch_size=10, stats_every=0)
    monkeypatch.setenv("FGCORE_CIFAR10", f"image_folder:{first}")
    in_first = resolve(spec)
    monkeypatch.setenv("FGCORE_CIFAR10", f"image_folder:{second}")
    in_second = resolve(spec)
    assert in_first.data_args["source"] != in_second.data_args["source"]        # where each copy lies...
    assert in_first.key == in_second.key and in_first.data_digest is not None  # ...is not part of the run
    assert str(first) not in in_first.canonical_json()
    folder_spec = RunSpec(dataset=f"image_folder:{first}", model="mlp", epochs=1)
    assert resolve(folder_spec).key == resolve(folder_spec.replace(dataset=f"image_folder:{second}")).key

    monkeypatch.setenv("FGCORE_CIFAR10", f"image_folder:{first}")
    run = train(spec, cache=isolated / "runs", device="cpu")
    # the run's record keeps where its data was read (to read it again), and its key
    assert run.spec.data_args["source"] == f"image_folder:{first}" and run.spec.key == run.key
    decoded = sorted((isolated / "cache" / "data").glob("image_folder-*.npy"))
    monkeypatch.setenv("FGCORE_CIFAR10", f"image_folder:{second}")
    monkeypatch.setattr("fgcore.train.loop.train_into", lambda *a, **k: pytest.fail("trained the same run twice"))
    assert train(spec, cache=isolated / "runs", device="cpu").key == run.key
    load("cifar10", "train")
    assert sorted((isolated / "cache" / "data").glob("image_folder-*.npy")) == decoded   # not decoded again

    Image.fromarray(np.zeros((32, 32, 3), dtype=np.uint8)).save(second / "train" / "cat" / "0.jpg")
    image_folder.content_digest.cache_clear()
    assert resolve(spec).key != run.key      # other images: another run
