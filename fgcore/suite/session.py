"""ClaimsSession: the state of a pytest session that runs claims, kept on its config (the plugin's hooks
only call into it): the options, the experiments, the runs, the records that reach the controller and
the claims JSON and report written at the end.

Records travel from the process that ran a test (an xdist worker, or the controller itself) as the test
report's user property RECORD_PROPERTY (JSON): user properties survive pytest-xdist's serialisation of
reports, while attributes set on a report on a worker do not reach the controller. The first record of
each process brings that process's `environment()` (ENVIRONMENT_PROPERTY): the device the claims ran on
is the workers', and the xdist controller need not import torch at the end of the session to name it.
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
import json
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from .. import machine
from ..experiments import Fixtures
from .catalog import get as catalog_entry
from .claim import Claim
from .html_columns import RECORD_PROPERTY
from .options import SuiteOptions
from .record import ClaimRecord, PreconditionFailed, SuiteError
from . import shared_training
from .runs import RunProvider

SESSION_KEY = pytest.StashKey["ClaimsSession"]()
ENVIRONMENT_PROPERTY = "fg_environment"
NO_CUDA = "no CUDA device: torch.cuda.is_available() is False on this machine"


def _tier(item: pytest.Item) -> str | None:
    from ..vocabulary import TIERS

    return next((t for t in TIERS if item.get_closest_marker(t)), None)


def _outcome(report: pytest.TestReport, call: pytest.CallInfo) -> str:
    """passed / skipped / precondition / suite-error / failed / error (a broken setup)."""
    if report.skipped:
        return "skipped"
    if report.passed:
        return "passed"
    if call.excinfo is not None and call.excinfo.errisinstance(PreconditionFailed):
        return "precondition"
    if call.excinfo is not None and call.excinfo.errisinstance(SuiteError):
        return "suite-error"
    return "failed" if report.when == "call" else "error"


class ClaimsSession:
    def __init__(self, config: pytest.Config):
        self.config = config
        self.options = SuiteOptions.from_config(config)
        self.fixtures = Fixtures.for_rootdir(config.rootpath)
        self.provider = RunProvider(self.options, self.fixtures)
        self.records: list[dict[str, Any]] = []   # on the controller: every claim record of the session
        self.environment: dict[str, Any] | None = None   # on the controller: that of a process that ran claims
        self._environment_sent = False            # in a process that runs claims: sent with its first record
        self.progress: Any = None                 # SessionProgress on a controller that reports progress
        self._thread_limit: Any = None

    @staticmethod
    def of(config: pytest.Config) -> "ClaimsSession":
        return config.stash[SESSION_KEY]

    # -- collection ------------------------------------------------------------------------------------
    def parametrize(self, metafunc: pytest.Metafunc) -> None:
        """@pytest.mark.claim(ID, applies_to=TAG): one parameter per experiment whose tags hold TAG, marked
        with its tier and grouped by experiment (with --dist loadgroup a shared run trains once)."""
        marker = metafunc.definition.get_closest_marker("claim")
        if marker is None or "experiment" not in metafunc.fixturenames:
            return
        tag = marker.kwargs.get("applies_to")
        if tag is None:
            return  # a claim that names its experiments itself
        pattern = self.options.experiments
        params = []
        for name, path in sorted(self.fixtures.available().items()):
            if pattern and not fnmatch.fnmatch(name, pattern):
                continue
            experiment = self.fixtures.load(path)
            if tag in experiment.tags:
                marks = [getattr(pytest.mark, experiment.tier), pytest.mark.xdist_group(name=name)]
                params.append(pytest.param(name, marks=marks, id=name))
        metafunc.parametrize("experiment", params)

    def select(self, items: list[pytest.Item]) -> None:
        """Claims that no selected experiment carries are deselected (not "skipped: empty parameter set");
        gpu claims skip with the exact reason when there is no CUDA device. Sessions that run claims (only
        those: the plugin is installed for every pytest of the environment) share the machine between
        xdist workers, before anything asks torch about CUDA."""
        if any(item.get_closest_marker("claim") for item in items):
            machine.pin_xdist_worker_to_gpu()
            self._thread_limit = machine.share_cores(machine.xdist_workers())
        unused = [item for item in items if item.get_closest_marker("claim") and hasattr(item, "callspec")
                  and "experiment" in item.callspec.params
                  and not isinstance(item.callspec.params["experiment"], str)]
        if unused:
            self.config.hook.pytest_deselected(items=unused)
            items[:] = [item for item in items if item not in unused]
        gpu_items = [item for item in items if item.get_closest_marker("gpu")]
        if not gpu_items:
            return
        import torch

        if not torch.cuda.is_available():
            for item in gpu_items:
                item.add_marker(pytest.mark.skip(reason=NO_CUDA))

    def train_shared(self, session: pytest.Session) -> None:
        """Before the claims run: train the missing runs they read, shared out with the other xdist
        workers (fgcore.suite.shared_training). The xdist controller collects nothing, so it trains
        nothing."""
        if session.config.option.collectonly or session.testsfailed:
            return
        if any(item.get_closest_marker("claim") for item in session.items):
            shared_training.train_missing(session.items, self.options, self.fixtures)

    # -- a claim test ------------------------------------------------------------------------------------
    def new_claim(self, item: pytest.Item, experiment: str | None) -> Claim:
        marker = item.get_closest_marker("claim")
        if marker is None or not marker.args:
            raise pytest.UsageError(f"{item.nodeid}: the `claim` fixture needs @pytest.mark.claim(ID)")
        return Claim(catalog_entry(marker.args[0]), tier=_tier(item), experiment=experiment, nodeid=item.nodeid,
                     seeds=self.options.base_seeds, provider=self.provider)

    def attach_record(self, item: pytest.Item, call: pytest.CallInfo, report: pytest.TestReport,
                      record: ClaimRecord | None) -> None:
        """After a claim test: its record (or a minimal one, for a test skipped or broken before its
        fixture ran) as the report's user property, for the controller."""
        if record is None:
            experiment = item.callspec.params.get("experiment") if hasattr(item, "callspec") else None
            if experiment is not None and not isinstance(experiment, str):
                return  # no experiment carries the claim's tag: the report lists the claim as not run
            record = ClaimRecord(catalog_entry(item.get_closest_marker("claim").args[0]), tier=_tier(item),
                                 experiment=experiment, nodeid=item.nodeid, seeds=self.options.base_seeds)
        record.outcome = _outcome(report, call)
        if report.skipped and isinstance(report.longrepr, tuple):
            record.message = str(report.longrepr[2])
        elif not report.passed:
            record.message = str(getattr(call.excinfo, "value", "") or report.longreprtext)[:4000]
        report.user_properties.append((RECORD_PROPERTY, json.dumps(record.to_dict())))
        if not self._environment_sent:
            report.user_properties.append((ENVIRONMENT_PROPERTY, json.dumps(environment())))
            self._environment_sent = True

    def collect(self, report: pytest.TestReport) -> None:
        """On the controller (also under xdist, where worker reports arrive serialised)."""
        for key, value in getattr(report, "user_properties", ()):
            if key == RECORD_PROPERTY:
                self.records.append(json.loads(value))
            elif key == ENVIRONMENT_PROPERTY and self.environment is None:
                self.environment = json.loads(value)

    # -- the end ---------------------------------------------------------------------------------------
    def finish(self) -> None:
        """The controller writes reports/sessions/<stamp>-<pid>.json, and with --fg-report DIR the claims
        JSON and the HTML report there."""
        if hasattr(self.config, "workerinput") or not self.records:
            return
        from ..fileio import atomic_write_json

        payload = {"created": _dt.datetime.now().isoformat(timespec="seconds"), "options": self.options.to_dict(),
                   "markexpr": self.config.getoption("markexpr", None) or "",
                   "environment": self.environment or environment(),
                   "claims": sorted(self.records, key=lambda r: (r["id"], r["test"]))}
        root = Path(self.config.rootpath)
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        atomic_write_json(root / "reports" / "sessions" / f"{stamp}-{os.getpid()}.json", payload)
        if self.options.report:
            out = Path(self.options.report)
            out = out if out.is_absolute() else root / out
            atomic_write_json(out / "claims.json", payload)
            from .. import report

            report.build(out / "claims.json", out)


def _version(distribution: str) -> str | None:
    """The installed version of a distribution, read from its metadata (importing scikit-learn or openTSNE
    only to print a version costs seconds), or None when it is not installed."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def environment() -> dict[str, Any]:
    """Versions, device and data settings the report prints next to the claims."""
    import torch

    from .. import settings

    return {"python": platform.python_version(), "platform": platform.platform(), "torch": torch.__version__,
            "numpy": _version("numpy"), "scikit-learn": _version("scikit-learn"),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "cpu_count": os.cpu_count(), "FGCORE_CIFAR10": settings.raw(settings.CIFAR10),
            "FGCORE_CACHE": settings.raw(settings.CACHE), "openTSNE": _version("openTSNE")}
