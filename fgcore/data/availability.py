"""Which data sets are present, where, and how to get the missing ones (`fgcore data check|prepare`).

check() only looks; prepare(name) tries to fetch: the Debian package for Fashion-MNIST when running
as root with apt-get, a torchvision download for CIFAR. Both return `DataStatus` records whose
``str()`` is what a person should read.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .. import settings
from .cifar import CIFAR_HOW_TO_GET, _download as _download_cifar, cifar10_source, cifar_search_dirs, find_cifar
from .idx import FASHION_MNIST_HOW_TO_GET, fashion_mnist_search_dirs, find_fashion_mnist
from .loaders import DATASETS, _valid_names
from .paths import data_home

APT_PACKAGE = "dataset-fashion-mnist"
JPEG_COPY_NAME = "cifar10-jpeg.tar.gz"


@dataclass(frozen=True)
class DataStatus:
    """Whether one data set can be loaded here. ``str(status)`` is the human-readable report."""

    name: str
    present: bool
    location: str | None = None  # where it was found
    looked_in: tuple[str, ...] = ()  # where it was looked for (when missing)
    how_to_get: str = ""
    note: str = ""  # what prepare() did, or a warning

    def __str__(self) -> str:
        if self.present:
            lines = [f"{self.name}: present ({self.location})"]
        else:
            lines = [f"{self.name}: MISSING"]
            if self.looked_in:
                lines.append("  looked in: " + ", ".join(self.looked_in))
            if self.how_to_get:
                lines.append("  how to get it: " + self.how_to_get)
        if self.note:
            lines.append("  note: " + self.note)
        return "\n".join(lines)


def format_statuses(statuses) -> str:
    """All statuses, one block each, for `fgcore data check`."""
    return "\n".join(str(s) for s in statuses)


def _jpeg_copy_candidates() -> list[Path]:
    # The project keeps the JPEG copy in shared/data beside the checkout (never inside it).
    repo = Path(__file__).resolve().parents[2]
    candidates = [repo.parent / "shared" / "data" / JPEG_COPY_NAME, repo / "shared" / "data" / JPEG_COPY_NAME]
    home = data_home()
    if home is not None:
        candidates.append(home / JPEG_COPY_NAME)
    return [c for c in candidates if c.is_file()]


def _digits_status() -> DataStatus:
    try:
        from importlib.resources import files

        present = files("sklearn.datasets").joinpath("data", "digits.csv.gz").is_file()
    except (ImportError, ModuleNotFoundError):
        present = False
    return DataStatus("digits", present, "sklearn (bundled with scikit-learn)" if present else None,
                      how_to_get="pip install scikit-learn (the digits ship with it).")


def _fashion_status(root=None) -> DataStatus:
    found = [find_fashion_mnist(s, root) for s in ("train", "test")]
    if all(found):
        return DataStatus("fashion_mnist", True, str(found[0][0].parent))
    return DataStatus("fashion_mnist", False, looked_in=tuple(map(str, fashion_mnist_search_dirs(root))),
                      how_to_get=FASHION_MNIST_HOW_TO_GET)


def _cifar10_status(root=None) -> DataStatus:
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


def _cifar10_how_to_get() -> str:
    text = CIFAR_HOW_TO_GET["cifar10"]
    for tarball in _jpeg_copy_candidates():
        text += (f" The JPEG copy is here: tar xzf {tarball} -C /tmp && "
                 "export FGCORE_CIFAR10=image_folder:/tmp/cifar_jpg")
        break
    return text


def _cifar100_status(root=None) -> DataStatus:
    location = find_cifar("cifar100", root)
    if location is not None:
        return DataStatus("cifar100", True, f"{location} (official archive)")
    return DataStatus("cifar100", False, looked_in=tuple(map(str, cifar_search_dirs(root))),
                      how_to_get=CIFAR_HOW_TO_GET["cifar100"])


def _status(name: str, root=None) -> DataStatus:
    if name == "digits":
        return _digits_status()
    if name == "fashion_mnist":
        return _fashion_status(root)
    if name == "cifar10":
        return _cifar10_status(root)
    if name == "cifar100":
        return _cifar100_status(root)
    return DataStatus(name, True, "generated on the fly (synthetic)")


def check(root=None) -> list[DataStatus]:
    """The status of every data set in DATASETS (looks only; changes nothing)."""
    return [_status(name, root) for name in DATASETS]


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _run(cmd: list[str]) -> int:
    """Run one command, its output going to the terminal; the return code."""
    env = settings.child_environment({"DEBIAN_FRONTEND": "noninteractive"})
    return subprocess.run(cmd, env=env, check=False).returncode


def _prepare_fashion_mnist(root=None) -> DataStatus:
    if not _is_root() or shutil.which("apt-get") is None:
        why = "not running as root" if not _is_root() else "apt-get is not available"
        return _with_note(_fashion_status(root), f"nothing installed ({why}); run: sudo apt-get install {APT_PACKAGE}")
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", APT_PACKAGE]):
        code = _run(cmd)
        if code != 0:
            return _with_note(_fashion_status(root), f"`{' '.join(cmd)}` failed with exit code {code}.")
    status = _fashion_status(root)
    return _with_note(status, f"installed the Debian package {APT_PACKAGE}." if status.present else
                      f"installed {APT_PACKAGE} but its files were not found where expected.")


def _prepare_cifar(name: str, root=None) -> DataStatus:
    try:
        _download_cifar(name)
    except Exception as err:  # no internet, no torchvision, disk full: report, do not crash the CLI
        return _with_note(_status(name, root), f"torchvision download failed ({type(err).__name__}: {err}).")
    status = _status(name, root)
    return _with_note(status, "downloaded the official archive with torchvision.")


def _with_note(status: DataStatus, note: str) -> DataStatus:
    return DataStatus(status.name, status.present, status.location, status.looked_in, status.how_to_get, note)


def prepare(name: str, root=None) -> DataStatus:
    """Make `name` available if this machine allows it; the status afterwards says what happened.

    fashion_mnist: ``apt-get update && apt-get install -y dataset-fashion-mnist`` when root with
    apt-get, else the instruction. cifar10 / cifar100: a torchvision download into
    $FGCORE_CACHE/data (needs internet), else the instruction. Others: nothing to do.
    """
    if name not in DATASETS:
        raise ValueError(f"name={name!r} is not a known data set; valid names: {_valid_names()}.")
    status = _status(name, root)
    if status.present:
        return _with_note(status, "already present; nothing to do.")
    if name == "fashion_mnist":
        return _prepare_fashion_mnist(root)
    if name == "cifar10":
        try:
            source = cifar10_source()
        except ValueError:
            return status  # its note already says what is wrong with FGCORE_CIFAR10
        if source.startswith("image_folder:"):
            return _with_note(status, f"FGCORE_CIFAR10={source} names a folder that is missing; fix the path or unset it.")
    if name in ("cifar10", "cifar100"):
        return _prepare_cifar(name, root)
    return status
