"""Results derived from a cached run (its CLP and LPO, fgcore.run_metrics), kept in the run's cache entry.

t-SNE and the probes cost seconds per run, and the same ones are asked for by several claims, by the
processes of one session (pytest-xdist workers) and by later sessions (`make report` after `make test`).
Each result is one file, `runs/<key>/derived/<name>-<digest>.pkl`, where the digest covers the name, the
arguments, the source of the code that computes it and the versions of the libraries it calls: change
any of them and the result is computed afresh. A file is written atomically under its own lock, so two
processes that ask at once compute it once; removing the entry (`fgcore cache rm`) removes its results.
A cache that cannot be written (read-only, full) only costs the time to compute again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import pickle
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence, TypeVar

import filelock

from ..fileio import atomic_write_bytes

T = TypeVar("T")
FOLDER = "derived"
LIBRARIES = ("numpy", "scipy", "scikit-learn", "openTSNE", "torch")


@functools.lru_cache(maxsize=None)
def code_digest(modules: tuple[str, ...]) -> str:
    """sha256 over the source files of `modules` (a package counts with all its .py files) and the
    versions of LIBRARIES: what a derived result depends on besides the run and its arguments."""
    import importlib

    digest = hashlib.sha256()
    for name in modules:
        module = importlib.import_module(name)
        path = Path(module.__file__)
        files = sorted(path.parent.glob("*.py")) if path.name == "__init__.py" else [path]
        for file in files:
            digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    for library in LIBRARIES:
        try:
            digest.update(f"{library}={metadata.version(library)}\n".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{library} missing\n".encode())
    return digest.hexdigest()


def _device() -> str:
    """Where a probe may run (the torch probe on a CUDA device gives other numbers than scikit-learn)."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def result_path(run: Any, name: str, arguments: Mapping[str, Any], code: Sequence[str]) -> Path | None:
    """The file of one derived result of `run`, or None for a run that is not in a run cache."""
    entry = getattr(run, "entry", None)
    if entry is None:
        return None
    described = json.dumps([name, {k: repr(v) for k, v in sorted(arguments.items())}, code_digest(tuple(code)),
                            _device()])
    return entry.file(FOLDER) / f"{name}-{hashlib.sha256(described.encode()).hexdigest()[:24]}.pkl"


def _load(path: Path) -> tuple[bool, Any]:
    """(True, the stored result), or (False, None) when there is none or it cannot be read (missing,
    truncated, foreign: it is computed again and replaced)."""
    try:
        return True, pickle.loads(path.read_bytes())
    except Exception:  # noqa: BLE001
        return False, None


def load_or_compute(run: Any, name: str, arguments: Mapping[str, Any], compute: Callable[[], T],
                    code: Sequence[str]) -> T:
    """`compute()` for `run`, read from its cache entry when it was computed there before with the same
    arguments and code (`code`: the modules whose source it depends on), else computed and stored.

    Examples
    --------
    >>> class NotCached:            # a run without a cache entry: computed every time
    ...     entry = None
    >>> load_or_compute(NotCached(), "answer", {"x": 1}, lambda: 42, code=("fgcore.train.derived",))
    42
    """
    path = result_path(run, name, arguments, code)
    if path is None:
        return compute()
    found, result = _load(path)
    if found:
        return result
    try:
        path.parent.mkdir(exist_ok=True)
        lock = filelock.FileLock(str(path.with_suffix(".lock")))
        lock.acquire()
    except OSError:  # a cache this process cannot write
        return compute()
    try:
        found, result = _load(path)   # another process may have computed it while this one waited
        if not found:
            result = compute()
            try:
                atomic_write_bytes(path, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
            except OSError:
                pass
        return result
    finally:
        lock.release()
