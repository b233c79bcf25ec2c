"""The run cache: one folder per RunSpec, written atomically, guarded by a file lock.

Layout of `$FGCORE_CACHE/runs/<key>/` (default cache root: ~/.cache/fgcore):

    spec.json                       the RunSpec (RunSpec.record: as given, with where its data lies) and the training-code version
    history.jsonl                   one JSON line per epoch (losses, accuracies, NC1, NC2, timings)
    stats/epoch_XXXX.safetensors    per-epoch arrays (class distance matrices)
    features/epoch_XXXX.safetensors train/test features at snapshot epochs
    labels.safetensors              training and original labels of both splits
    checkpoint.pt                   model + optimiser + RNG state (resume; the final one stays)
    meta.json                       class names, data source, device, versions, timings
    manifest.json                   written LAST: every file with its size and sha256
    derived/<name>-<digest>.pkl     results computed from the run later (CLP, LPO: fgcore.train.derived),
                                    not part of the run: not in the manifest

An entry is complete if and only if manifest.json exists and every file it lists has the listed size
(cheap, checked on every load); checksums are verified when a file is read (features, stats) and for
the whole entry by `fgcore cache verify`. Every file is written to a temporary name in the same folder
and renamed into place, so a crash never leaves a half-written file under a valid name, and an entry
without a manifest is never read as complete: training resumes from its checkpoint or starts over.
The lock file lives beside the entry (`runs/<key>.lock`) so that `rm` of an entry never races a lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import filelock

from ..errors import UnknownNameError
from ..fileio import atomic_write_bytes, atomic_write_json
from ..settings import cache_root  # the argument, else $FGCORE_CACHE, else ~/.cache/fgcore

MANIFEST = "manifest.json"


class CorruptEntryError(RuntimeError):
    """A cache entry whose files do not match its manifest (say which file, and what to do)."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Entry:
    """One cache entry (may be absent, in progress or complete)."""

    root: Path
    key: str

    @property
    def path(self) -> Path:
        return self.root / "runs" / self.key

    @property
    def lock_path(self) -> Path:
        return self.root / "runs" / f"{self.key}.lock"

    def file(self, name: str) -> Path:
        return self.path / name

    @contextlib.contextmanager
    def lock(self, *, on_wait=None, poll: float = 1.0, wait: bool = True) -> Iterator[bool]:
        """Hold the entry's file lock; call on_wait() once if another process holds it.

        Yields True while the lock is held. wait=False: when another process holds it, yield False at
        once instead of waiting (the caller then does something else)."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(self.lock_path))
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            if not wait:
                yield False
                return
            if on_wait is not None:
                on_wait()
            lock.acquire(poll_interval=poll)
        try:
            yield True
        finally:
            lock.release()

    # -- completeness ---------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.file(MANIFEST).read_text())
        except FileNotFoundError:
            return None
        except (OSError, json.JSONDecodeError) as exc:
            raise CorruptEntryError(
                f"cache entry {self.path}: manifest.json is unreadable ({exc}); "
                f"remove it with `fgcore cache rm {self.key}` and train again") from exc

    def problems(self, *, checksums: bool = False) -> list[str]:
        """What is wrong with a complete entry (empty list: it is valid)."""
        manifest = self.manifest()
        if manifest is None:
            return ["no manifest.json (training did not finish)"]
        found = []
        for name, info in sorted(manifest["files"].items()):
            path = self.file(name)
            if not path.is_file():
                found.append(f"{name}: missing")
            elif path.stat().st_size != info["size"]:
                found.append(f"{name}: size {path.stat().st_size} != {info['size']} in the manifest")
            elif checksums and sha256_file(path) != info["sha256"]:
                found.append(f"{name}: sha256 differs from the manifest (the file is corrupted)")
        return found

    def is_complete(self) -> bool:
        """A manifest exists and every listed file has its listed size (no checksum: cheap)."""
        try:
            return self.manifest() is not None and not self.problems()
        except CorruptEntryError:
            return False

    def read_verified(self, name: str) -> bytes:
        """Read a file of a complete entry and check it against the manifest's sha256."""
        manifest = self.manifest()
        if manifest is None or name not in manifest["files"]:
            raise CorruptEntryError(f"cache entry {self.path}: {name} is not listed in a manifest; "
                                    f"the entry is incomplete (train it again)")
        data = self.file(name).read_bytes()
        if sha256_bytes(data) != manifest["files"][name]["sha256"]:
            raise CorruptEntryError(
                f"cache entry {self.path}: {name} does not match its checksum (corrupted on disk). "
                f"Remove the entry with `fgcore cache rm {self.key}` and run again to retrain it.")
        return data

    def write_manifest(self, extra: dict[str, Any] | None = None) -> None:
        files = {}
        for path in sorted(self.path.rglob("*")):
            if path.is_file() and path.name != MANIFEST and not path.name.startswith("."):
                files[path.relative_to(self.path).as_posix()] = {
                    "size": path.stat().st_size, "sha256": sha256_file(path)}
        atomic_write_json(self.file(MANIFEST), {"files": files, "written": time.time(), **(extra or {})})

    def invalidate(self) -> None:
        """Remove the manifest first (the entry stops being valid at once), then the rest."""
        with contextlib.suppress(FileNotFoundError):
            self.file(MANIFEST).unlink()
        shutil.rmtree(self.path, ignore_errors=True)


class RunStore:
    """All entries under one cache root."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = cache_root(root)

    def entry(self, key: str) -> Entry:
        return Entry(self.root, key)

    def keys(self) -> list[str]:
        runs = self.root / "runs"
        if not runs.is_dir():
            return []
        return sorted(p.name for p in runs.iterdir() if p.is_dir())

    def resolve(self, prefix: str) -> Entry:
        """An entry by key or unique key prefix."""
        matches = [k for k in self.keys() if k.startswith(prefix)]
        if not matches:
            raise UnknownNameError(f"no cache entry starts with {prefix!r} under {self.root / 'runs'} "
                                   "(`fgcore cache ls` lists them)")
        if len(matches) > 1:
            raise UnknownNameError(f"{prefix!r} matches {len(matches)} entries; give more characters of the key")
        return self.entry(matches[0])


def save_tensors(path: Path, tensors: dict[str, Any]) -> None:
    """Atomically write a safetensors file from numpy arrays or torch tensors."""
    import numpy as np
    from safetensors.numpy import save

    arrays = {}
    for name, value in tensors.items():
        if hasattr(value, "detach"):
            value = value.detach().cpu().numpy()
        arrays[name] = np.ascontiguousarray(value)
    atomic_write_bytes(path, save(arrays))


def load_tensors(data: bytes) -> dict[str, Any]:
    from safetensors.numpy import load

    return load(data)


def torch_save_atomic(path: Path, obj: Any) -> None:
    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(path, buffer.getvalue())
