"""Where data sets are looked for and where decoded copies are cached.

``$FGCORE_DATA`` names a folder holding data sets (``fashion-mnist/``, ``cifar-10-batches-py/``, ...);
decoded copies and ``download=True`` targets go to ``$FGCORE_CACHE/data`` (fgcore.settings).
"""

from __future__ import annotations

from pathlib import Path

from .. import settings

#: Where the Debian package ``dataset-fashion-mnist`` installs its idx files.
SYSTEM_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")


def data_home() -> Path | None:
    """The folder named by ``$FGCORE_DATA``, or None when the variable is unset or empty."""
    return settings.data_home()


def data_cache_dir() -> Path:
    """``$FGCORE_CACHE/data``: decoded image caches and ``download=True`` targets."""
    return settings.cache_root() / "data"


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
