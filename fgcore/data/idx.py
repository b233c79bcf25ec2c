"""Fashion-MNIST from its official idx files (gzip or plain).

File names are those of the official release and of the Debian package ``dataset-fashion-mnist``
(checked with ``dpkg -c``): ``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz`` in ``/usr/share/datasets/fashion-mnist``.
torchvision keeps the same names (gzip and unpacked) under ``<root>/FashionMNIST/raw``.
"""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import numpy as np

from ..errors import NotFoundError
from . import paths, status
from .dataset import Dataset, check_split
from .paths import SYSTEM_FASHION_MNIST_DIR, data_cache_dir, data_home, format_looked_in, unique
from .registry import DatasetInfo, register

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
#: Natural groups: tops (0,2,3,4,6), footwear (5,7,9), trouser (1), bag (8).
FASHION_MNIST_SUPERCLASSES = ("tops", "footwear", "trouser", "bag")
FASHION_MNIST_SUPERCLASS_MAP = np.array([0, 2, 0, 0, 0, 1, 0, 1, 3, 1], dtype=np.int64)

_PREFIX = {"train": "train", "test": "t10k"}
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

APT_PACKAGE = "dataset-fashion-mnist"
FASHION_MNIST_HOW_TO_GET = (
    "Install the Debian package (as root): apt-get update && apt-get install -y dataset-fashion-mnist "
    f"(files land in {SYSTEM_FASHION_MNIST_DIR}); or run `fgcore data prepare fashion_mnist`; or put the four "
    "official idx files (train-images-idx3-ubyte.gz, ...) into $FGCORE_DATA/fashion-mnist; or, on a machine "
    "with internet, load('fashion_mnist', ..., download=True)."
)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one idx file (gzip if the name ends in .gz): magic 0x0000, dtype code, ndim, big-endian dims."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path} is not an idx file (bad magic number {raw[:4]!r}).")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{path}: unknown idx data type code 0x{code:02x}.")
    header = 4 + 4 * ndim
    shape = tuple(int(v) for v in np.frombuffer(raw[4:header], dtype=">u4"))
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(f"{path}: header says shape {shape} ({expected} bytes) but {len(raw) - header} bytes follow.")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def fashion_mnist_search_dirs(root: str | os.PathLike | None = None) -> list[Path]:
    """root (and its fashion-mnist/ and FashionMNIST/raw/), $FGCORE_DATA/fashion-mnist, $FGCORE_DATA,
    the system folder of the Debian package, and the download cache, in that order."""
    dirs = []
    if root is not None:
        r = Path(root).expanduser()
        dirs += [r, r / "fashion-mnist", r / "FashionMNIST" / "raw"]
    home = data_home()
    if home is not None:
        dirs += [home / "fashion-mnist", home, home / "FashionMNIST" / "raw"]
    dirs += [paths.SYSTEM_FASHION_MNIST_DIR, data_cache_dir() / "FashionMNIST" / "raw"]  # read at call time (tests patch it)
    return unique(dirs)


def _find(directory: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def find_fashion_mnist(split: str, root=None) -> tuple[Path, Path] | None:
    """(images, labels) paths of the first folder holding both files of `split`, or None."""
    prefix = _PREFIX[check_split(split)]
    for d in fashion_mnist_search_dirs(root):
        images = _find(d, f"{prefix}-images-idx3-ubyte")
        labels = _find(d, f"{prefix}-labels-idx1-ubyte")
        if images is not None and labels is not None:
            return images, labels
    return None


def download_fashion_mnist() -> None:
    import torchvision

    torchvision.datasets.FashionMNIST(root=str(data_cache_dir()), train=True, download=True)
    torchvision.datasets.FashionMNIST(root=str(data_cache_dir()), train=False, download=True)


def load_fashion_mnist(split: str, root=None, download: bool = False) -> Dataset:
    """Fashion-MNIST as uint8 (n, 1, 28, 28), labels 0..9, natural superclasses tops/footwear/trouser/bag."""
    found = find_fashion_mnist(split, root)
    if found is None and download:
        download_fashion_mnist()
        found = find_fashion_mnist(split, root)
    if found is None:
        prefix = _PREFIX[split]
        raise NotFoundError(
            f"Fashion-MNIST ({split}) not found: looked for {prefix}-images-idx3-ubyte[.gz] and "
            f"{prefix}-labels-idx1-ubyte[.gz] in\n{format_looked_in(fashion_mnist_search_dirs(root))}\n"
            f"How to get it: {FASHION_MNIST_HOW_TO_GET}"
        )
    images_path, labels_path = found
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"{images_path}: expected uint8 images of shape (n, 28, 28), got {images.dtype} {images.shape}.")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise ValueError(f"{labels_path}: {labels.shape[0]} labels for {images.shape[0]} images.")
    y = labels.astype(np.int64)
    if y.size and (y.min() < 0 or y.max() >= len(FASHION_MNIST_CLASSES)):
        raise ValueError(f"{labels_path}: labels must lie in 0..9, found {y.min()}..{y.max()}.")
    return Dataset(
        x=np.ascontiguousarray(images[:, None, :, :]),
        y=y,
        class_names=FASHION_MNIST_CLASSES,
        name="fashion_mnist",
        split=split,
        source=str(images_path.parent),
        superclass=FASHION_MNIST_SUPERCLASS_MAP[y],
        superclass_names=FASHION_MNIST_SUPERCLASSES,
        meta={"superclass_map": FASHION_MNIST_SUPERCLASS_MAP, "files": [str(images_path), str(labels_path)]},
    )


def fashion_mnist_status(root=None) -> status.DataStatus:
    """Present when both splits' idx files are found (fashion_mnist_search_dirs)."""
    found = [find_fashion_mnist(split, root) for split in ("train", "test")]
    if all(found):
        return status.DataStatus("fashion_mnist", True, str(found[0][0].parent))
    return status.DataStatus("fashion_mnist", False, looked_in=tuple(map(str, fashion_mnist_search_dirs(root))),
                             how_to_get=FASHION_MNIST_HOW_TO_GET)


def prepare_fashion_mnist(root=None) -> status.DataStatus:
    """As root with apt-get: install the Debian package; otherwise say how."""
    if not status.is_root() or shutil.which("apt-get") is None:
        why = "not running as root" if not status.is_root() else "apt-get is not available"
        return fashion_mnist_status(root).with_note(f"nothing installed ({why}); run: sudo apt-get install {APT_PACKAGE}")
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", APT_PACKAGE]):
        code = status.run_command(cmd)
        if code != 0:
            return fashion_mnist_status(root).with_note(f"`{' '.join(cmd)}` failed with exit code {code}.")
    after = fashion_mnist_status(root)
    return after.with_note(f"installed the Debian package {APT_PACKAGE}." if after.present else
                           f"installed {APT_PACKAGE} but its files were not found where expected.")


register(DatasetInfo(
    "fashion_mnist", load_fashion_mnist,
    "Fashion-MNIST idx files (Debian package dataset-fashion-mnist or $FGCORE_DATA)",
    augment="none", normalize="per_channel", status=fashion_mnist_status, prepare=prepare_fashion_mnist))
