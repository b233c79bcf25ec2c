"""The fgcore pytest plugin: options, claims parametrised by experiment tags, cached runs, records.

A claim test looks like

    NC1_FALL = Check("NC1 at the end / NC1 of the untrained network", measures.nc1_fall,
                     thresholds.NC1_FALL, controls=("no_collapse",))

    @pytest.mark.claim("nc1-collapse", applies_to="coarse")
    def test_nc1_collapse(claim):
        subject = claim.verify([NC1_FALL], terminal_phase=True)
        claim.figure("nc_curves", **analysis.collapse_curve(subject.run))

`applies_to` parametrises the test over every experiment (fixtures/*.toml) whose `tags` hold that
tag; each parameter carries its experiment's tier as a marker (fast / slow / gpu), so one new TOML file
puts a new model or data set through every claim that applies. `claim.verify` (fgcore.claim_layer)
measures the checks on the experiment and on the controls its fixture names for each check; after the
test body the plugin asks the record for its verdict (ClaimRecord.conclude) and keeps it for the report.
Registered through the `pytest11` entry point (and by the checkout's conftest.py as a fallback).
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
import json
import os
import platform
from pathlib import Path
from typing import Any, Sequence

import pytest

from .claim_layer import Check, Subject, require_terminal_phase, verify
from .claim_record import ClaimRecord, PreconditionFailed, SuiteError

TIER_MARKERS = ("fast", "slow", "gpu")
_RECORD_KEY = "fg_claim"
# The progress of claims sessions that train (runs, epochs, time left; also under xdist): its own plugin.
pytest_plugins = ["fgcore.claims_progress"]


# -- options and configuration -----------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fgcore", "fgcore claims")
    group.addoption("--fg-profile", choices=("paper", "quick"), default=os.environ.get("FGCORE_PROFILE", "paper"),
                    help="gpu experiments: the paper's schedule and grid (paper) or a short run (quick)")
    group.addoption("--fg-seed", type=int, default=int(os.environ.get("FGCORE_SEED", 0)),
                    help="base seed added to every experiment's seeds (default 0)")
    group.addoption("--fg-seeds", type=int, default=int(os.environ.get("FGCORE_SEEDS", 1)),
                    help="run each claim's experiments over this many seeds (base seed, base + 1, ...)")
    group.addoption("--fg-experiments", default=None,
                    help="only experiments whose name matches this glob pattern (e.g. 'digits-*')")
    group.addoption("--fg-train", choices=("missing", "never"), default="missing",
                    help="missing: train runs that are not cached; never: only read the cache")
    group.addoption("--fg-cache", default=None, help="run cache root (default $FGCORE_CACHE or ~/.cache/fgcore)")
    group.addoption("--fg-device", default=None, help="training device (default: CUDA if available, else CPU)")
    group.addoption("--fg-report", default=None, metavar="DIR",
                    help="write DIR/claims.json and DIR/index.html (the claim report) at the end")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "claim(id, applies_to=None): a claim of the paper (fgcore.catalog); "
                                       "applies_to parametrises it over experiments with that tag")
    config.addinivalue_line("markers", "xdist_group(name): keep tests sharing runs on one xdist worker")
    if config.pluginmanager.hasplugin("html"):  # measured / threshold columns in pytest-html's table
        from .report import pytest_html_columns

        config.pluginmanager.register(pytest_html_columns, "fgcore-html-columns")


def _share_the_machine(config: pytest.Config) -> None:
    """Sessions that run claims (only those: the plugin is installed for every pytest of the
    environment) share the machine between xdist workers: one GPU and a share of the cores each.
    Called before anything asks torch about CUDA, so the GPU pinning still takes effect."""
    from . import machine

    machine.pin_xdist_worker_to_gpu()  # xdist worker gwN sees one GPU (the N-th visible one, round-robin)
    config._fg_thread_limit = machine.share_cores(machine.xdist_workers())


def _options(config: pytest.Config) -> dict[str, Any]:
    get = config.getoption
    return {"profile": get("--fg-profile"), "seed": get("--fg-seed"), "seeds": max(1, get("--fg-seeds")),
            "experiments": get("--fg-experiments"), "train": get("--fg-train"), "cache": get("--fg-cache"),
            "device": get("--fg-device"), "report": get("--fg-report")}


# -- parametrisation by experiment tags ---------------------------------------------------------
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("claim")
    if marker is None or "experiment" not in metafunc.fixturenames:
        return
    tag = marker.kwargs.get("applies_to")
    if tag is None:
        return  # a claim that names its experiments itself
    from .experiments import available, load_experiment

    pattern = metafunc.config.getoption("--fg-experiments")
    params = []
    for name, path in sorted(available().items()):
        if pattern and not fnmatch.fnmatch(name, pattern):
            continue
        experiment = load_experiment(path)
        if tag in experiment.tags:
            marks = [getattr(pytest.mark, experiment.tier), pytest.mark.xdist_group(name=name)]
            params.append(pytest.param(name, marks=marks, id=name))
    metafunc.parametrize("experiment", params)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Claims that no selected experiment carries are deselected (not "skipped: empty parameter set");
    gpu claims skip with the exact reason when there is no CUDA device."""
    if any(item.get_closest_marker("claim") for item in items):
        _share_the_machine(config)
    unused = [item for item in items if item.get_closest_marker("claim") and hasattr(item, "callspec")
              and "experiment" in item.callspec.params and not isinstance(item.callspec.params["experiment"], str)]
    if unused:
        config.hook.pytest_deselected(items=unused)
        items[:] = [item for item in items if item not in unused]
    gpu_items = [item for item in items if item.get_closest_marker("gpu")]
    if not gpu_items:
        return
    import torch

    if not torch.cuda.is_available():
        reason = "no CUDA device: torch.cuda.is_available() is False on this machine"
        for item in gpu_items:
            item.add_marker(pytest.mark.skip(reason=reason))


# -- the claim fixture -------------------------------------------------------------------------
class Claim(ClaimRecord):
    """A ClaimRecord that can also fetch the Runs of its experiments (trained once, or from the cache)."""

    def __init__(self, *args, options: dict[str, Any], **kwargs):
        super().__init__(*args, **kwargs)
        self.options = options

    def experiment_info(self, name: str | None = None):
        from .experiments import load_experiment

        return load_experiment(name or self.experiment)

    def runs(self, experiment: str | None = None, *, seed: int = 0) -> list[tuple[dict, Any]]:
        """[(grid point, Run)] of an experiment (default: this test's) at one seed offset."""
        from .train import train
        from .train.cache import RunStore

        name = experiment or self.experiment
        if name is None:
            raise ValueError("claim.runs(): name the experiment (this claim is not parametrised by one)")
        info = self.experiment_info(name)
        note = info.profiles.get(self.options["profile"], {}).get("note")
        if note and f"{name}: {note}" not in self.notes:  # e.g. a quick run shorter than the paper's
            self.note(f"{name}: {note}")
        out = []
        for point, spec in info.runs(self.options["profile"], seed=seed):
            entry = RunStore(self.options["cache"]).entry(spec.key)
            if self.options["train"] == "never" and not entry.is_complete():
                from .sweep import sweep_command

                command = sweep_command(name, profile=self.options["profile"], seed=seed,
                                        cache=self.options["cache"])
                pytest.fail(f"run {spec.short} of experiment {name} is not in the cache "
                            f"({entry.path}) and --fg-train=never; produce it with: {command}", pytrace=False)
            try:
                run = train(spec, cache=self.options["cache"], device=self.options["device"], progress=False)
            except FileNotFoundError as exc:
                pytest.skip(f"data for experiment {name} not found: {exc}")
            out.append((point, self.use_run(run, name)))
        return out

    def run(self, experiment: str | None = None, *, seed: int = 0):
        """The single Run of an experiment without a grid."""
        runs = self.runs(experiment, seed=seed)
        if len(runs) != 1:
            raise ValueError(f"experiment {experiment or self.experiment} has {len(runs)} runs (a grid); "
                             f"use claim.runs()")
        return runs[0][1]

    def subject(self, experiment: str, seed: int, *, terminal_phase: bool = False) -> Subject:
        """The runs of `experiment` at base seed `seed`, with this claim's comparison experiments (which
        must reach the terminal phase too when the claim is about it)."""
        compare_table = self.experiment_info().compare

        def compare(key: str) -> list[tuple[dict, Any]]:
            if key not in compare_table:
                raise SuiteError(f"experiment {self.experiment} has no [compare] entry {key!r}; it has "
                                 f"{sorted(compare_table) or 'none'}")
            runs = self.runs(compare_table[key], seed=seed)
            if terminal_phase:
                require_terminal_phase(runs, compare_table[key])
            return runs

        return Subject(experiment, self.runs(experiment, seed=seed), seed, self.tier, compare)

    def verify(self, checks: Sequence[Check], *, terminal_phase: bool) -> Subject:
        """Measure the declared checks on this claim's experiment and its controls (fgcore.claim_layer)."""
        return verify(self, checks, terminal_phase=terminal_phase)


def _tier(item: pytest.Item) -> str | None:
    return next((t for t in TIER_MARKERS if item.get_closest_marker(t)), None)


@pytest.fixture
def experiment() -> str | None:
    """The experiment a claim test runs on: parametrised from @pytest.mark.claim(..., applies_to=TAG)."""
    return None


@pytest.fixture
def claim(request: pytest.FixtureRequest, experiment: str | None) -> Claim:
    from .catalog import get

    marker = request.node.get_closest_marker("claim")
    if marker is None or not marker.args:
        raise pytest.UsageError(f"{request.node.nodeid}: the `claim` fixture needs @pytest.mark.claim(ID)")
    options = _options(request.config)
    seeds = [options["seed"] + i for i in range(options["seeds"])]
    record = Claim(get(marker.args[0]), tier=_tier(request.node), experiment=experiment,
                   nodeid=request.node.nodeid, seeds=seeds, options=options)
    request.node._fg_claim = record
    return record


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function):
    result = yield
    record = getattr(pyfuncitem, "_fg_claim", None)
    if record is not None:
        record.conclude()  # raises AssertionError when the claim fails or its control passes
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    marker = item.get_closest_marker("claim")
    if marker is None:
        return report
    finished = (report.when == "call") or (report.when == "setup" and not report.passed)
    if not finished:
        return report
    record = getattr(item, "_fg_claim", None)
    if record is None:  # skipped or broken before the fixture ran: a minimal record
        from .catalog import get

        options = _options(item.config)
        experiment = item.callspec.params.get("experiment") if hasattr(item, "callspec") else None
        if experiment is not None and not isinstance(experiment, str):
            return report  # no experiment carries the claim's tag: the report lists the claim as not run
        record = ClaimRecord(get(marker.args[0]), tier=_tier(item), experiment=experiment, nodeid=item.nodeid,
                             seeds=[options["seed"] + i for i in range(options["seeds"])])
    record.outcome = _outcome(report, call)
    if report.skipped and isinstance(report.longrepr, tuple):
        record.message = str(report.longrepr[2])
    elif not report.passed:
        record.message = str(getattr(call.excinfo, "value", "") or report.longreprtext)[:4000]
    report.user_properties.append((_RECORD_KEY, json.dumps(record.to_dict())))
    return report


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


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Runs on the controller (also under xdist, where worker reports arrive serialised)."""
    for key, value in getattr(report, "user_properties", ()):
        if key == _RECORD_KEY:
            _CONTROLLER_RECORDS.append(json.loads(value))


_CONTROLLER_RECORDS: list[dict[str, Any]] = []


def environment() -> dict[str, Any]:
    """Versions, device and data settings the report prints next to the claims."""
    import numpy
    import sklearn
    import torch

    env = {"python": platform.python_version(), "platform": platform.platform(), "torch": torch.__version__,
           "numpy": numpy.__version__, "scikit-learn": sklearn.__version__,
           "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
           "cpu_count": os.cpu_count(), "FGCORE_CIFAR10": os.environ.get("FGCORE_CIFAR10"),
           "FGCORE_CACHE": os.environ.get("FGCORE_CACHE")}
    try:
        import openTSNE

        env["openTSNE"] = openTSNE.__version__
    except ImportError:
        env["openTSNE"] = None
    return env


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller writes the file
        return
    records = list(_CONTROLLER_RECORDS)
    _CONTROLLER_RECORDS.clear()
    if not records:
        return
    options = _options(session.config)
    payload = {"created": _dt.datetime.now().isoformat(timespec="seconds"), "options": options,
               "markexpr": session.config.getoption("markexpr", None) or "",
               "environment": environment(), "claims": sorted(records, key=lambda r: (r["id"], r["test"]))}
    root = Path(session.config.rootpath)
    sessions = root / "reports" / "sessions"
    from .train.cache import atomic_write_json

    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    atomic_write_json(sessions / f"{stamp}-{os.getpid()}.json", payload)
    if options["report"]:
        out = Path(options["report"])
        out = out if out.is_absolute() else root / out
        atomic_write_json(out / "claims.json", payload)
        try:
            from . import report
        except ImportError:
            return
        report.build(out / "claims.json", out)
