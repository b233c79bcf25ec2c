"""Where data sets are looked for and where decoded copies are cached.

Environment variables (read at call time, so tests and users can change them):
- ``FGCORE_DATA``: a folder holding data sets (``fashion-mnist/``, ``cifar-10-batches-py/``, ...).
- ``FGCORE_CACHE``: the project's cache folder (default ``~/.cache/fgcore``); data caches live in
  ``$FGCORE_CACHE/data``, which is also where ``download=True`` puts the CIFAR archives.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Where the Debian package ``dataset-fashion-mnist`` installs its idx files.
SYSTEM_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")


def data_home() -> Path | None:
    """The folder named by ``$FGCORE_DATA``, or None when the variable is unset or empty."""
    value = os.environ.get("FGCORE_DATA", "").strip()
    return Path(value).expanduser() if value else None


def cache_home() -> Path:
    """``$FGCORE_CACHE`` (default ``~/.cache/fgcore``)."""
    value = os.environ.get("FGCORE_CACHE", "").strip()
    return Path(value).expanduser() if value else Path.home() / ".cache" / "fgcore"


def data_cache_dir() -> Path:
    """``$FGCORE_CACHE/data``: decoded image caches and ``download=True`` targets."""
    return cache_home() / "data"


def unique(paths) -> list[Path]:
    """Drop None and repeated entries, keeping the first occurrence (search order matters)."""
    seen: set[str] = set()
    out: list[Path] = []
    for p in paths:
        if p is None:
            continue
        key = str(Path(p).expanduser())
        if key not in seen:
            seen.add(key)
            out.append(Path(key))
    return out


def format_looked_in(paths) -> str:
    return "\n".join(f"  - {p}" for p in paths) if paths else "  (nowhere)"
