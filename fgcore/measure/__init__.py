"""fgcore measure: the questions of the paper and of Neural Collapse, asked of a model trained elsewhere.

    from fgcore.measure import measure
    m = measure("torchvision:resnet18", "cifar10", labeling="coarse:5", checkpoint="resnet18.pt")
    m.numbers            # NC1-NC4, CDNV, equinorm, equiangularity, accuracies, distance ratio, CLP, LPO
    m.report("report.html")

The module itself can be called as the function: ``import fgcore.measure; fgcore.measure(...)``. The
command line is ``fgcore measure MODEL DATA --checkpoint FILE --labeling coarse:5`` (fgcore.measure.cli).

    api.py          measure(): the feature cache, then the measurement
    model.py        a model from a name (fgcore, torchvision, import path) and its state dict
    checkpoint.py   a state dict loaded as data only, with errors that say what a file holds
    data.py         both splits of a data set, relabelled and prepared as the trainer prepares them
    extract.py      the features: .features / .head, the input of the final linear layer, a named layer
    layers.py       NC1 and the distance ratio layer by layer (streamed: no layer's features are kept)
    store.py        the cache entries ($FGCORE_CACHE/measure/<key>)
    numbers.py      what each number means: the Neural-Collapse family from fgcore.metrics.METRICS, the rest
    measurement.py  Measurement: the numbers (fgcore.metrics, fgcore.run_metrics) and .report()
    page.py         the HTML page (templates/), drawn with fgcore.drawing, the kit the claims report uses
"""

from __future__ import annotations

import sys
import types
from typing import Any

__all__ = ["measure", "Measurement", "NUMBERS"]


def __getattr__(name: str) -> Any:
    # torch is imported when something is measured, not when the command line lists its commands
    if name == "measure":
        from .api import measure

        return measure
    if name == "Measurement":
        from .measurement import Measurement

        return Measurement
    if name == "NUMBERS":
        from .numbers import NUMBERS

        return NUMBERS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _CallableModule(types.ModuleType):
    """Lets ``fgcore.measure(...)`` call `measure` while ``fgcore.measure.Measurement`` stays reachable."""

    def __call__(self, *args: Any, **kwargs: Any):
        from .api import measure

        return measure(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
