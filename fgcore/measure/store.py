"""The feature cache of fgcore measure: extracted features are kept like training runs.

``$FGCORE_CACHE/measure/<key>/`` (fgcore.settings.cache_root) holds one measurement's features: the key is
the sha256 of the model (its name and options, or a module's class), the sha256 of its weights, the data
set (name, resolved options, subsets, seed, normalisation), the labeling, the layer and
MEASURE_CODE_VERSION. A layer-by-layer measurement (``layers=``) is an entry of its own whose key adds
the layers. The entries work as run entries do (fgcore.train.cache.Entry): every file is written to a
temporary name and renamed, the manifest (sizes and sha256) is written last, a file lock makes two
processes that ask for the same entry compute it once, and a file that does not match its checksum is
found when it is read (the entry is then computed again: it is derived data).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..train.cache import Entry

# Bump when a change to the extraction changes what an entry would contain.
MEASURE_CODE_VERSION = 1
FOLDER = "measure"

__all__ = ["MEASURE_CODE_VERSION", "FeatureEntry", "entry_key"]


def entry_key(parts: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of `parts` and MEASURE_CODE_VERSION (32 hex digits, as run keys)."""
    payload = json.dumps({"parts": parts, "measure_code_version": MEASURE_CODE_VERSION}, sort_keys=True,
                         separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class FeatureEntry(Entry):
    """A cache entry under ``<cache root>/measure/``; otherwise an fgcore.train.cache.Entry."""

    @property
    def path(self) -> Path:
        return self.root / FOLDER / self.key

    @property
    def lock_path(self) -> Path:
        return self.root / FOLDER / f"{self.key}.lock"
