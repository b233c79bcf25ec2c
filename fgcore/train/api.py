"""train(spec) -> Run: from the cache when the run is complete, else trained once (file lock).

A cache hit imports neither torch nor the models: `fgcore train NAME` on a cached experiment returns
in about the time Python takes to start.
"""

from __future__ import annotations

import os
import sys
from typing import Callable

from ..errors import SpecError
from .cache import RunStore
from .resolve import resolve
from .run import Run
from .spec import RunSpec


def train(spec: RunSpec, *, cache: str | os.PathLike | None = None, device=None, progress: bool | None = None,
          log: Callable[[str], None] | None = None, compile: bool | str | None = None,
          wait: bool = True) -> Run | None:
    """Return the Run of `spec`, from the cache or by training it (once, even across processes).

    The spec is resolved first (fgcore.train.resolve: "auto" choices and the data set's options made),
    and the run is cached under the resolved spec's key: ``train(spec).key == resolve(spec).key``.

    device: "cpu", "cuda", "cuda:1", ... (default $FGCORE_DEVICE, else CUDA when available for
    bf16 runs, the CPU for float32 runs; see fgcore.train.loop.default_device).
    progress: show a tqdm bar (default: when stderr is a terminal). log: where to say that this
    process waits for another one training the same spec (default: stderr).
    compile: torch.compile the training forward pass (True, or a backend name; default
    $FGCORE_COMPILE). A speed option: not part of the cache key.
    wait: False returns None at once when another process is training the spec, instead of waiting for
    it (to train something else meanwhile: fgcore.suite.shared_training).
    """
    if not isinstance(spec, RunSpec):
        raise SpecError(f"train(spec): expected a RunSpec, got {type(spec).__name__}; build one with "
                        "RunSpec(dataset=..., ...) or from an experiment (fgcore.experiments.load_experiment)")
    spec = resolve(spec)
    entry = RunStore(cache).entry(spec.key)
    if entry.is_complete():
        return Run(entry)
    from . import loop  # torch and the models, only when something has to be trained

    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    waiting = lambda: log(f"fgcore: another process is training {spec.short} [{entry.key[:12]}]; waiting")
    with entry.lock(on_wait=waiting, wait=wait) as held:
        if not held:
            return None
        if not entry.is_complete():
            execution = None
            if compile is not None:
                backend = ("inductor" if compile is True else compile) if compile else None
                execution = loop.Execution(compile=backend)
            loop.train_into(spec, entry, device=device, progress=sys.stderr.isatty() if progress is None else progress,
                            execution=execution)
    return Run(entry)
