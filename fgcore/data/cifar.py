"""CIFAR-10 and CIFAR-100 from the official python archives, laid out as torchvision leaves them.

- ``cifar-10-batches-py/``: data_batch_1..5, test_batch (dicts with b"data" (n, 3072) uint8 and
  b"labels"), batches.meta (b"label_names").
- ``cifar-100-python/``: train, test (b"data", b"fine_labels", b"coarse_labels"), meta
  (b"fine_label_names", b"coarse_label_names").

The unextracted ``cifar-10-python.tar.gz`` / ``cifar-100-python.tar.gz`` is read as well. These are
pickle files: only point the loader at archives you trust (the official ones are).

CIFAR-10 can instead come from a class-per-folder copy (e.g. a JPEG copy) by the option
``source="image_folder:<path>"``, so the same experiment definitions run on both. A run's spec gets the
source when it is resolved (`DatasetInfo.resolve_options`: the option if given, else $FGCORE_CIFAR10,
else "official"), so it is part of the run's cache key; ``Dataset.source`` says which one was read.
"""

from __future__ import annotations

import pickle
import tarfile
from pathlib import Path

import numpy as np

from .. import settings
from ..errors import NotFoundError, SpecError
from .cifar_classes import CIFAR10_CLASSES, CIFAR100_CLASSES, CIFAR100_SUPERCLASS_MAP
from .dataset import Dataset, check_split
from .image_folder import content_digest, load_image_folder
from .paths import data_cache_dir, data_home, format_looked_in, unique
from .registry import DatasetInfo, register
from .status import DataStatus

CIFAR10_DIR, CIFAR10_TARBALL = "cifar-10-batches-py", "cifar-10-python.tar.gz"
CIFAR100_DIR, CIFAR100_TARBALL = "cifar-100-python", "cifar-100-python.tar.gz"
CIFAR10_FILES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"], "meta": "batches.meta"}
CIFAR100_FILES = {"train": ["train"], "test": ["test"], "meta": "meta"}

CIFAR_HOW_TO_GET = {
    "cifar10": (
        "On a machine with internet: load('cifar10', ..., download=True) or `fgcore data prepare cifar10` "
        "(torchvision downloads the official archive into $FGCORE_CACHE/data). Or put cifar-10-batches-py/ "
        "(or cifar-10-python.tar.gz) into $FGCORE_DATA. Or use the JPEG copy: tar xzf cifar10-jpeg.tar.gz "
        "-C <dir> and set FGCORE_CIFAR10=image_folder:<dir>/cifar_jpg."
    ),
    "cifar100": (
        "On a machine with internet: load('cifar100', ..., download=True) or `fgcore data prepare cifar100` "
        "(torchvision downloads the official archive into $FGCORE_CACHE/data). Or put cifar-100-python/ "
        "(or cifar-100-python.tar.gz) into $FGCORE_DATA."
    ),
}


def cifar_search_dirs(root=None) -> list[Path]:
    """root, $FGCORE_DATA, $FGCORE_CACHE/data (default ~/.cache/fgcore/data), in that order."""
    return unique([None if root is None else Path(root).expanduser(), data_home(), data_cache_dir()])


def find_cifar(name: str, root=None) -> Path | None:
    """The extracted folder (preferred) or the tarball of `name`, or None."""
    folder, tarball = (CIFAR10_DIR, CIFAR10_TARBALL) if name == "cifar10" else (CIFAR100_DIR, CIFAR100_TARBALL)
    meta = (CIFAR10_FILES if name == "cifar10" else CIFAR100_FILES)["meta"]
    for d in cifar_search_dirs(root):
        for candidate in (d / folder, d):  # root may name the batches folder itself
            if candidate.name == folder and (candidate / meta).is_file():
                return candidate
        if (d / tarball).is_file():
            return d / tarball
    return None


def _str_keys(d: dict) -> dict:
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in d.items()}


def _names(values) -> tuple[str, ...]:
    return tuple(v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values)


def _read_members(location: Path, folder: str, members: list[str]) -> list[dict]:
    """Unpickle `members` from an extracted folder or from the tarball (without extracting it)."""
    out = []
    if location.is_dir():
        for m in members:
            path = location / m
            if not path.is_file():
                raise FileNotFoundError(f"{path} is missing: the archive folder {location} is incomplete.")
            with open(path, "rb") as f:
                out.append(_str_keys(pickle.load(f, encoding="bytes")))
        return out
    with tarfile.open(location, "r:gz") as tar:
        for m in members:
            try:
                f = tar.extractfile(f"{folder}/{m}")
            except KeyError:
                f = None
            if f is None:
                raise FileNotFoundError(f"{location} has no member {folder}/{m}: the archive is incomplete.")
            out.append(_str_keys(pickle.load(f, encoding="bytes")))
    return out


def _images(batches: list[dict], location: Path) -> np.ndarray:
    data = np.concatenate([np.asarray(b["data"], dtype=np.uint8) for b in batches])
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(f"{location}: expected data rows of 3072 bytes (3x32x32), got shape {data.shape}.")
    return data.reshape(-1, 3, 32, 32)  # the archive stores each row as R plane, G plane, B plane


def _download(name: str) -> None:
    import torchvision

    cls = torchvision.datasets.CIFAR10 if name == "cifar10" else torchvision.datasets.CIFAR100
    target = data_cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    cls(root=str(target), train=True, download=True)


def _locate(name: str, root, download: bool) -> Path:
    location = find_cifar(name, root)
    if location is None and download:
        _download(name)
        location = find_cifar(name, root)
    if location is None:
        folder, tarball = (CIFAR10_DIR, CIFAR10_TARBALL) if name == "cifar10" else (CIFAR100_DIR, CIFAR100_TARBALL)
        raise NotFoundError(
            f"{name} not found: looked for {folder}/ or {tarball} in\n"
            f"{format_looked_in(cifar_search_dirs(root))}\nHow to get it: {CIFAR_HOW_TO_GET[name]}"
        )
    return location


def cifar10_source(source: str | None = None) -> str:
    """The CIFAR-10 source: `source`, else $FGCORE_CIFAR10 (fgcore.settings), else "official"."""
    if source is None:
        return settings.cifar10_source()
    if source != "official" and not source.startswith("image_folder:"):
        raise SpecError(f"CIFAR-10 source={source!r} is not valid; use 'official' (the python archive) or "
                        "'image_folder:<path>' (e.g. the JPEG copy).")
    return source


def load_cifar10(split: str, root=None, download: bool = False, source: str | None = None) -> Dataset:
    """CIFAR-10 as uint8 (n, 3, 32, 32), labels 0..9 in the official order (airplane..truck)."""
    check_split(split)
    chosen = cifar10_source(source)
    if chosen.startswith("image_folder:"):
        return _cifar10_from_folder(chosen.split(":", 1)[1], split)
    location = _locate("cifar10", root, download)
    meta, *batches = _read_members(location, CIFAR10_DIR, [CIFAR10_FILES["meta"], *CIFAR10_FILES[split]])
    names = _names(meta["label_names"])
    y = np.concatenate([np.asarray(b["labels"], dtype=np.int64) for b in batches])
    return Dataset(
        x=_images(batches, location), y=y, class_names=names, name="cifar10", split=split, source=str(location),
        meta={"origin": "official archive"},
    )


def _cifar10_from_folder(path: str, split: str) -> Dataset:
    ds = load_image_folder(path, split, mode="rgb", name="cifar10")
    if ds.class_names != CIFAR10_CLASSES:
        raise SpecError(
            f"the CIFAR-10 source (FGCORE_CIFAR10 or data_args.source) points at {path}, whose classes {list(ds.class_names)} are not "
            f"the CIFAR-10 classes {list(CIFAR10_CLASSES)}."
        )
    if ds.x.shape[1:] != (3, 32, 32):
        raise ValueError(f"{path}: CIFAR-10 images must be 3x32x32, found {ds.x.shape[1:]}.")
    all_jpeg = ds.meta["jpeg_files"] == ds.meta["n_files"]
    source = "CIFAR-10 (JPEG copy)" if all_jpeg else f"CIFAR-10 (image folder {ds.meta['path']})"
    return Dataset(
        x=ds.x, y=ds.y, class_names=ds.class_names, name="cifar10", split=split, source=source,
        meta={**ds.meta, "origin": "image_folder"},
    )


def _superclass_map(fine: np.ndarray, coarse: np.ndarray, names: tuple[str, ...], location: Path) -> np.ndarray:
    mapping = np.full(len(names), -1, dtype=np.int64)
    for f, c in np.unique(np.stack([fine, coarse], axis=1), axis=0):
        if mapping[f] not in (-1, c):
            raise ValueError(f"{location}: fine class {f} appears with two coarse labels ({mapping[f]} and {c}).")
        mapping[f] = c
    missing = mapping < 0
    if missing.any():
        if names != CIFAR100_CLASSES:
            raise ValueError(f"{location}: fine classes {np.flatnonzero(missing).tolist()} have no coarse label.")
        mapping[missing] = CIFAR100_SUPERCLASS_MAP[missing]
    return mapping


def load_cifar100(split: str, root=None, download: bool = False) -> Dataset:
    """CIFAR-100 as uint8 (n, 3, 32, 32), 100 fine labels, and the archive's 20 coarse labels as superclass."""
    check_split(split)
    location = _locate("cifar100", root, download)
    meta, batch = _read_members(location, CIFAR100_DIR, [CIFAR100_FILES["meta"], *CIFAR100_FILES[split]])
    names = _names(meta["fine_label_names"])
    super_names = _names(meta["coarse_label_names"])
    y = np.asarray(batch["fine_labels"], dtype=np.int64)
    coarse = np.asarray(batch["coarse_labels"], dtype=np.int64)
    if y.shape != coarse.shape:
        raise ValueError(f"{location}: {y.shape[0]} fine labels but {coarse.shape[0]} coarse labels.")
    if y.size and (y.min() < 0 or y.max() >= len(names) or coarse.min() < 0 or coarse.max() >= len(super_names)):
        raise ValueError(f"{location}: labels out of range of the meta file's {len(names)} / {len(super_names)} names.")
    return Dataset(
        x=_images([batch], location), y=y, class_names=names, name="cifar100", split=split, source=str(location),
        superclass=coarse, superclass_names=super_names,
        meta={"origin": "official archive", "superclass_map": _superclass_map(y, coarse, names, location)},
    )


# -- availability, preparation and the registry --------------------------------------------------------
JPEG_COPY_NAME = "cifar10-jpeg.tar.gz"


def _with_source(options: dict) -> dict:
    """data_args of a cifar10 run with its source chosen: the option, else $FGCORE_CIFAR10, else official."""
    return {**options, "source": cifar10_source(options.get("source"))}


def _cifar10_content(options: dict) -> str | None:
    """The digest of a class-per-folder copy (the official archive is known by its name)."""
    source = options.get("source", "official")
    return content_digest(source.split(":", 1)[1]) if source.startswith("image_folder:") else None


def _cifar10_how_to_get() -> str:
    text = CIFAR_HOW_TO_GET["cifar10"]
    home = data_home()
    if home is not None and (home / JPEG_COPY_NAME).is_file():
        text += (f" The JPEG copy is here: tar xzf {home / JPEG_COPY_NAME} -C /tmp && "
                 "export FGCORE_CIFAR10=image_folder:/tmp/cifar_jpg")
    return text


def cifar10_status(root=None) -> DataStatus:
    """Present when the source FGCORE_CIFAR10 chooses is there: the class-per-folder copy, or the archive."""
    try:
        source = cifar10_source()
    except ValueError as err:
        return DataStatus("cifar10", False, how_to_get=CIFAR_HOW_TO_GET["cifar10"], note=str(err))
    if source.startswith("image_folder:"):
        path = Path(source.split(":", 1)[1]).expanduser()
        ok = (path / "train").is_dir() and (path / "test").is_dir()
        note = f"source chosen by FGCORE_CIFAR10={source}"
        if ok:
            return DataStatus("cifar10", True, f"{path} (class-per-folder copy)", note=note)
        return DataStatus("cifar10", False, looked_in=(str(path / "train"), str(path / "test")),
                          how_to_get=_cifar10_how_to_get(), note=note)
    location = find_cifar("cifar10", root)
    if location is not None:
        return DataStatus("cifar10", True, f"{location} (official archive)")
    return DataStatus("cifar10", False, looked_in=tuple(map(str, cifar_search_dirs(root))),
                      how_to_get=_cifar10_how_to_get())


def cifar100_status(root=None) -> DataStatus:
    """Present when the official archive is found (cifar_search_dirs)."""
    location = find_cifar("cifar100", root)
    if location is not None:
        return DataStatus("cifar100", True, f"{location} (official archive)")
    return DataStatus("cifar100", False, looked_in=tuple(map(str, cifar_search_dirs(root))),
                      how_to_get=CIFAR_HOW_TO_GET["cifar100"])


def _prepare(name: str, status, root=None) -> DataStatus:
    try:
        _download(name)
    except Exception as err:  # no internet, no torchvision, disk full: report, do not crash the CLI
        return status(root).with_note(f"torchvision download failed ({type(err).__name__}: {err}).")
    return status(root).with_note("downloaded the official archive with torchvision.")


def prepare_cifar10(root=None) -> DataStatus:
    """A torchvision download of the official archive, unless FGCORE_CIFAR10 names a copy (then: fix it)."""
    try:
        source = cifar10_source()
    except ValueError:
        return cifar10_status(root)  # its note already says what is wrong with FGCORE_CIFAR10
    if source.startswith("image_folder:"):
        return cifar10_status(root).with_note(
            f"FGCORE_CIFAR10={source} names a folder that is missing; fix the path or unset it.")
    return _prepare("cifar10", cifar10_status, root)


def prepare_cifar100(root=None) -> DataStatus:
    """A torchvision download of the official archive into $FGCORE_CACHE/data (needs internet)."""
    return _prepare("cifar100", cifar100_status, root)


register(DatasetInfo(
    "cifar10", load_cifar10,
    "CIFAR-10 official python archive, or the folder named by FGCORE_CIFAR10=image_folder:<path>",
    augment="crop_flip", normalize="per_channel", status=cifar10_status, prepare=prepare_cifar10,
    resolve_options=_with_source, content=_cifar10_content))
register(DatasetInfo(
    "cifar100", load_cifar100, "CIFAR-100 official python archive, with the 20 official superclasses",
    augment="crop_flip", normalize="per_channel", status=cifar100_status, prepare=prepare_cifar100))
