"""Train the runs a claims session reads before its claims run, shared out between the xdist workers.

With --dist loadgroup the claims that share runs stay on one worker, so one worker may get the groups
whose runs cost minutes while another finishes early and idles (the fast tier from an empty cache: 9:03
with 13:53 of CPU time on 2 cores). Instead, before running any claim, every process that runs claims
walks the same list of missing runs, longest first, and trains each run whose lock it gets at once,
passing over those another process is training. The training is spread over the workers about as evenly
as the runs' lengths allow (longest first, greedy), and the claims then read the cache, waiting only for
a run still being trained elsewhere.

A run that cannot be trained here (its data is missing, it diverges) is left to the claim that reads it,
which reports it as it always does.
"""

from __future__ import annotations

from typing import Any

import pytest

from .progress import session_specs


def missing_specs(items: list[pytest.Item], options: Any, fixtures: Any) -> list[Any]:
    """The RunSpecs the claims among `items` that will run read and the cache lacks, longest first
    (by epochs; ties keep the order of the experiments' names). Claims marked to skip (a gpu claim
    without CUDA) are left out."""
    from ..train.cache import RunStore

    store = RunStore(options.cache)
    running = [item for item in items if not item.get_closest_marker("skip")]
    specs: dict[str, Any] = {}
    for _, spec in session_specs(running, options, fixtures):
        if spec.key not in specs and not store.entry(spec.key).is_complete():
            specs[spec.key] = spec
    return sorted(specs.values(), key=lambda spec: -spec.epochs)


def train_missing(items: list[pytest.Item], options: Any, fixtures: Any) -> int:
    """Train every missing run of the session that no other process is training; return how many this
    process trained."""
    if options.train == "never":
        return 0
    from ..train import train

    trained = 0
    for spec in missing_specs(items, options, fixtures):
        try:
            run = train(spec, cache=options.cache, device=options.device, progress=False, wait=False)
        except Exception:  # noqa: BLE001 - the claim that reads this run trains it again and reports why
            continue
        trained += run is not None
    return trained
