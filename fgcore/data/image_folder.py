"""Any class-per-folder image tree: ``<path>/<split>/<class>/*.{jpg,jpeg,png}``.

Class order: the official order when the folder names are exactly those of a known data set
(CIFAR-10, CIFAR-100), otherwise sorted by name. The classes are the union of the class folders of
all splits, so train and test always agree on the label of a class. Within a class, files are in
natural order (``2.jpg`` before ``10.jpg``).

Decoding tens of thousands of small JPEGs takes seconds, so the decoded uint8 array of a split is
cached in ``$FGCORE_CACHE/data`` (default ``~/.cache/fgcore/data``), keyed by the split's content
(every file's relative path and bytes, `content_digest`) and the colour mode: the same images in
another folder are decoded once. It is written to a temporary file and renamed into place
(``os.replace``), so a reader never sees half a cache file. A cache file that cannot be read is
ignored and rewritten.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import warnings
from pathlib import Path

import numpy as np

from ..errors import NotFoundError
from ..fileio import atomic_open
from .cifar_classes import KNOWN_ORDERS
from .dataset import SPLITS, Dataset, check_split
from .paths import data_cache_dir
from .registry import DatasetInfo, register_family

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
_CACHE_FORMAT_VERSION = 1
_DECODE_CHUNK = 8192  # files read and decoded per batch: bounds the memory held by encoded bytes


def _natural_key(name: str):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def class_order(names) -> tuple[str, ...]:
    """Official order if `names` are exactly the classes of a known data set, else sorted by name."""
    names = set(names)
    for known in KNOWN_ORDERS:
        if names == set(known):
            return tuple(known)
    return tuple(sorted(names))


def _scan(path, split: str) -> tuple[tuple[str, ...], list[tuple[Path, int, int]], np.ndarray]:
    """(class_names, entries, labels) of ``<path>/<split>`` without decoding anything; an entry is a
    file's (path, size, mtime_ns), for the decode cache's key."""
    check_split(split)
    root = Path(path).expanduser()
    split_dir = root / split
    if not split_dir.is_dir():
        raise NotFoundError(
            f"image folder: {split_dir} does not exist. Expected a class-per-folder tree "
            f"{root}/<split>/<class>/*.jpg|png with split in {SPLITS}. For the CIFAR-10 JPEG copy: "
            "tar xzf cifar10-jpeg.tar.gz -C <somewhere> and pass image_folder:<somewhere>/cifar_jpg."
        )
    class_dirs = {d.name for s in SPLITS if (root / s).is_dir() for d in (root / s).iterdir() if d.is_dir()}
    if not class_dirs:
        raise ValueError(f"image folder: {split_dir} has no class sub-folders; expected {split_dir}/<class>/*.jpg|png.")
    class_names = class_order(class_dirs)
    entries: list[tuple[Path, int, int]] = []
    labels: list[int] = []
    for label, name in enumerate(class_names):
        class_dir = split_dir / name
        if not class_dir.is_dir():
            continue
        found = []
        with os.scandir(class_dir) as it:
            for e in it:
                if e.name.lower().endswith(IMAGE_EXTENSIONS) and e.is_file():
                    st = e.stat()
                    found.append((e.name, st.st_size, st.st_mtime_ns))
        found.sort(key=lambda item: _natural_key(item[0]))
        entries += [(class_dir / n, size, mtime) for n, size, mtime in found]
        labels += [label] * len(found)
    if not entries:
        raise ValueError(f"image folder: no {'/'.join(IMAGE_EXTENSIONS)} files under {split_dir}/<class>/.")
    return class_names, entries, np.asarray(labels, dtype=np.int64)


def _listing_key(root: Path, split: str, entries: list[tuple[Path, int, int]]) -> str:
    """sha256 of where the files are and what their size and mtime say: changes when any file does."""
    h = hashlib.sha256()
    h.update(json.dumps([_CACHE_FORMAT_VERSION, str(root.resolve()), split, len(entries)]).encode())
    start = len(str(root)) + 1
    h.update("".join(f"\0{str(p)[start:]}\0{size}\0{mtime}" for p, size, mtime in entries).encode())
    return h.hexdigest()


def _split_digest(root: Path, split: str, entries: list[tuple[Path, int, int]]) -> str:
    """sha256 of one split's content: each file's path below the root and its bytes (not where the
    tree lies, not its timestamps). Kept in the data cache under the listing's key, so it is read once
    per change of the files."""
    memo = data_cache_dir() / f"image_folder-digest-{_listing_key(root, split, entries)[:32]}.txt"
    try:
        digest = memo.read_text().strip()
        if re.fullmatch(r"[0-9a-f]{64}", digest):
            return digest
    except OSError:
        pass
    h = hashlib.sha256(f"{_CACHE_FORMAT_VERSION}\0{split}\0{len(entries)}".encode())
    start = len(str(root)) + 1
    for path, _, _ in entries:
        h.update(f"\0{str(path)[start:]}\0".encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    digest = h.hexdigest()
    try:
        with atomic_open(memo) as handle:
            handle.write(digest.encode())
    except OSError:  # a read-only cache: computed again next time
        pass
    return digest


@functools.lru_cache(maxsize=16)
def content_digest(path: str) -> str:
    """sha256 of a class-per-folder tree's content (every split present: class folders, file names and
    bytes): the same images in another folder, or extracted again with other timestamps, give the same
    digest. A run's cache key holds it instead of the folder's path (fgcore.train.resolve), and the
    decode cache is keyed by it. Computed once per process and folder (reading every file once per
    change of the files, ~1 s for CIFAR-10's 60,000 JPEGs).
    """
    root = Path(path).expanduser()
    splits = [s for s in SPLITS if (root / s).is_dir()]
    if not splits:
        _scan(root, SPLITS[0])  # raises the error that says what a tree must look like
    h = hashlib.sha256()
    for split in splits:
        h.update(f"{split}\0{_split_digest(root, split, _scan(root, split)[1])}\0".encode())
    return h.hexdigest()


def _auto_mode(first: Path) -> str:
    from PIL import Image

    with Image.open(first) as im:
        return "gray" if im.mode in ("1", "L", "LA", "I", "I;16", "F") else "rgb"


def _decode_pil(path: Path, mode: str) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(path) as im:
            arr = np.asarray(im.convert("L" if mode == "gray" else "RGB"), dtype=np.uint8)
    except Exception as err:  # PIL raises several types for broken files
        raise ValueError(f"image folder: cannot decode {path}: {err}") from err
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


def _decode_torchvision(chunk: list[Path], mode: str) -> list[np.ndarray] | None:
    """Batch-decode with torchvision.io (JPEG about twice as fast as PIL here, same pixels on the
    CIFAR-10 JPEG copy); None when torchvision's decoders are unavailable or refuse a file."""
    try:
        with warnings.catch_warnings():
            # torchvision 0.29 deprecates its decoders in favour of torchcodec; PIL is the fallback.
            warnings.simplefilter("ignore", DeprecationWarning)
            from torchvision.io import ImageReadMode, decode_image, decode_jpeg, read_file

            read_mode = ImageReadMode.GRAY if mode == "gray" else ImageReadMode.RGB
            data = [read_file(str(f)) for f in chunk]
            images = [None] * len(chunk)
            jpeg_idx = [i for i, f in enumerate(chunk) if f.suffix.lower() in (".jpg", ".jpeg")]
            if jpeg_idx:
                for i, img in zip(jpeg_idx, decode_jpeg([data[i] for i in jpeg_idx], mode=read_mode)):
                    images[i] = img
            for i in range(len(chunk)):
                if images[i] is None:
                    images[i] = decode_image(data[i], mode=read_mode)
            return [img.numpy() for img in images]
    except Exception:  # ImportError, a removed API, an odd file: PIL decodes one at a time
        return None


def _decode(files: list[Path], mode: str) -> np.ndarray:
    """uint8 (n, C, H, W), decoded chunk by chunk (torchvision batch decode, else PIL)."""
    if mode == "auto":
        mode = _auto_mode(files[0])
    out: np.ndarray | None = None
    for start in range(0, len(files), _DECODE_CHUNK):
        chunk = files[start : start + _DECODE_CHUNK]
        images = _decode_torchvision(chunk, mode)
        if images is None:
            images = [_decode_pil(f, mode) for f in chunk]
        for i, img in enumerate(images):
            if out is None:
                out = np.empty((len(files), *img.shape), dtype=np.uint8)
            if img.shape != out.shape[1:]:
                raise ValueError(
                    f"image folder: {chunk[i]} has shape {img.shape} (C, H, W) but {files[0]} has "
                    f"{out.shape[1:]}; all images must have the same size and colour mode."
                )
            out[start + i] = img
    assert out is not None
    return out


def _read_cache(path: Path, n: int) -> np.ndarray | None:
    try:
        x = np.load(path, allow_pickle=False)
    except Exception:  # missing, truncated or foreign file: decode again
        return None
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[0] != n:
        return None
    return x


def _write_cache(path: Path, x: np.ndarray) -> None:
    try:
        with atomic_open(path) as handle:
            np.save(handle, x, allow_pickle=False)
    except OSError as err:
        warnings.warn(f"image folder: could not write the decode cache {path} ({err}); continuing without it.", stacklevel=3)


def load_image_folder(
    path: str | os.PathLike, split: str, *, mode: str = "auto", cache: bool = True, name: str | None = None
) -> Dataset:
    """Decode ``<path>/<split>/<class>/*`` to uint8 (n, C, H, W).

    mode: "auto" (grey if the first image has one channel, else RGB), "rgb" or "gray".
    cache: read / write the decoded array under ``$FGCORE_CACHE/data`` (see module docstring).
    """
    if mode not in ("auto", "rgb", "gray"):
        raise ValueError(f"mode={mode!r} is not valid; use 'auto', 'rgb' or 'gray'.")
    root = Path(path).expanduser()
    class_names, entries, y = _scan(root, split)
    files = [e[0] for e in entries]
    x = None
    cache_file = None
    if cache:
        key = hashlib.sha256(f"{_split_digest(root, split, entries)}\0{mode}".encode()).hexdigest()
        cache_file = data_cache_dir() / f"image_folder-{split}-{key[:24]}.npy"
        x = _read_cache(cache_file, len(files))
    from_cache = x is not None
    if x is None:
        x = _decode(files, mode)
        if cache_file is not None:
            _write_cache(cache_file, x)
    n_jpeg = sum(f.suffix.lower() in (".jpg", ".jpeg") for f in files)
    return Dataset(
        x=x,
        y=y,
        class_names=class_names,
        name=name or f"image_folder:{path}",
        split=split,
        source=str(root),
        meta={
            "path": str(root),
            "n_files": len(files),
            "jpeg_files": n_jpeg,
            "cache_file": None if cache_file is None else str(cache_file),
            "from_cache": from_cache,
        },
    )


def image_folder_info(name: str, path: str) -> DatasetInfo:
    """The data set ``image_folder:<path>``: "auto" augmentation and normalisation follow the images' shape."""

    def load(split: str, mode: str = "auto", cache: bool = True) -> Dataset:
        return load_image_folder(path, split, mode=mode, cache=cache, name=name)

    return DatasetInfo(name, load, f"class-per-folder images under {path}",
                       content=lambda options: content_digest(path))


register_family("image_folder", "image_folder:<path>", image_folder_info)
