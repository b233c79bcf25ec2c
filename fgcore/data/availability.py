"""Which data sets are present, where, and how to get the missing ones (`fgcore data check|prepare`).

check() only looks; prepare(name) tries to fetch what a data set's descriptor knows how to fetch (the
Debian package for Fashion-MNIST when running as root with apt-get, a torchvision download for CIFAR).
Both return `DataStatus` records whose ``str()`` is what a person should read.
"""

from __future__ import annotations

from .lookup import get
from .registry import DATASETS
from .status import DataStatus, format_statuses

__all__ = ["DataStatus", "check", "format_statuses", "prepare"]


def check(root=None) -> list[DataStatus]:
    """The status of every registered data set (looks only; changes nothing)."""
    return [info.check(root) for info in DATASETS.values()]


def prepare(name: str, root=None) -> DataStatus:
    """Make `name` available if this machine allows it; the status afterwards says what happened.

    Each data set's descriptor says how (fgcore.data.registry.DatasetInfo.prepare): fashion_mnist:
    ``apt-get update && apt-get install -y dataset-fashion-mnist`` when root with apt-get, else the
    instruction; cifar10 / cifar100: a torchvision download into $FGCORE_CACHE/data (needs internet),
    else the instruction. Others: nothing to do.
    """
    info = get(name)
    status = info.check(root)
    if status.present:
        return status.with_note("already present; nothing to do.")
    return status if info.prepare is None else info.prepare(root)
