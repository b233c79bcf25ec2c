"""Progress of a claims session that trains: which runs, at which epoch, how long is left.

A session of `pytest claims -m slow` trains for a quarter of an hour while pytest prints dots. This
plugin says at the start how many runs the selected claims read, how many come from the cache and how
many will be trained; then, while runs train, a line every --fg-progress seconds (default 30):

    fgcore 4:31 | training fmnist-coarse (epoch 37/150, ~3:43 left), fmnist-fine (epoch 12/150, ~9:10 left) | 2 of 11 trained, ~14 min left

and one line when a run starts and when it is trained. It works under pytest-xdist, whose workers'
output pytest captures: every process that trains writes its runs' progress to small files in a
session folder ($FGCORE_PROGRESS_DIR, written by fgcore.training_progress), the processes that collect
the claims write the plan there, and the controller reads the folder from a thread and writes through
pytest's terminal reporter. Without xdist the tests train in the controller itself: it reads the
folder from the training loop (training_progress.LISTENERS), with pytest's capturing suspended for the
line. The plugin's hooks (fgcore.suite.plugin) call it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from .. import training_progress
from .. import settings
from ..training_progress import clock

PLAN_FILE = "plan.json"
TICK_SECONDS = 1.0
STALE_SECONDS = 120.0  # a run whose file has not changed for this long is shown as silent


WORKER_INPUT_KEY = "fgcore_progress_dir"   # how the controller tells xdist workers its session folder


def use_controller_folder(config: pytest.Config) -> None:
    """In an xdist worker: the runs it trains report to the controller's session folder."""
    folder = config.workerinput.get(WORKER_INPUT_KEY)
    if folder:
        settings.set_progress_dir(folder)


# -- the plan: which runs the selected claims read --------------------------------------------------
def _names_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [n for v in value.values() for n in _names_in(v)]
    if isinstance(value, (list, tuple)):
        return [n for v in value for n in _names_in(v)]
    return []


def referenced_experiments(experiment: Any, known: set[str]) -> set[str]:
    """Experiments a fixture names in its tables ([controls], [compare], ...): the claims read those too."""
    names: set[str] = set()
    for field_name, value in vars(experiment).items():
        if field_name in ("spec", "grid", "profiles"):  # the run itself, not other experiments
            continue
        if isinstance(value, Mapping):
            names |= {n for n in _names_in(value) if n in known}
    return names - {experiment.name}


def session_specs(items: list[pytest.Item], options: Any, fixtures: Any) -> Iterator[tuple[str, Any]]:
    """(experiment name, RunSpec) of every run the collected claims read: their experiments and those
    they name, under the session's profile and base seeds (a run shared by experiments comes once each)."""
    known = fixtures.available()
    wanted: set[str] = set()
    for item in items:
        name = item.get_closest_marker("claim") and getattr(item, "callspec", None) \
            and item.callspec.params.get("experiment")
        if isinstance(name, str) and name in known:
            wanted.add(name)
    todo = list(wanted)
    while todo:  # the experiments named by the named ones too
        for name in referenced_experiments(fixtures.load(known[todo.pop()]), set(known)):
            if name not in wanted:
                wanted.add(name)
                todo.append(name)
    profile, base, count = options.profile, options.seed, options.seeds
    for name in sorted(wanted):
        experiment = fixtures.load(known[name])
        for seed in range(base, base + count):
            for spec in experiment.run_specs(profile, seed=seed):
                yield name, spec


def plan_runs(items: list[pytest.Item], options: Any, fixtures: Any) -> dict[str, Any] | None:
    """The runs the collected claims read (their experiments and those they name), cached or not."""
    from ..train.cache import RunStore

    claims = [item for item in items if item.get_closest_marker("claim")]
    if not claims:
        return None
    store = RunStore(options.cache)
    runs: dict[str, dict[str, Any]] = {}
    experiments: set[str] = set()
    for name, spec in session_specs(claims, options, fixtures):
        experiments.add(name)
        run = runs.setdefault(spec.key, {
            "label": spec.short, "experiments": [], "epochs": spec.epochs,
            "family": f"{spec.dataset}/{spec.model}", "cached": store.entry(spec.key).is_complete()})
        if name not in run["experiments"]:
            run["experiments"].append(name)
    return {"claims": len(claims), "experiments": len(experiments), "runs": runs, "train": options.train}


def header(plan: Mapping[str, Any]) -> str:
    runs = plan["runs"].values()
    cached = sum(1 for r in runs if r["cached"])
    missing = [r for r in runs if not r["cached"]]
    text = (f"fgcore: the {plan['claims']} selected claim test(s) read {len(plan['runs'])} run(s) of "
            f"{plan['experiments']} experiment(s): {cached} from the cache, ")
    if plan.get("train") == "never":
        return text + f"{len(missing)} missing (--fg-train never: their claims fail)"
    epochs = sum(r["epochs"] for r in missing)
    return text + (f"{len(missing)} to train ({epochs:,} epochs)" if missing else "none to train")


# -- the controller's view --------------------------------------------------------------------------
class SessionProgress:
    """The controller's side: a session folder for the progress files, a thread that reports them."""

    def __init__(self, config: pytest.Config, options: Any, fixtures: Any):
        self.config, self.options, self.fixtures = config, options, fixtures
        self.interval = float(options.progress)
        self.folder = Path(tempfile.mkdtemp(prefix="fgcore-progress-"))
        self.previous_env = settings.set_progress_dir(self.folder)  # this process and its xdist workers
        self.started = time.monotonic()
        self.plan: dict[str, Any] | None = None
        self.header_said = False
        self.seen: dict[str, dict[str, Any]] = {}  # key -> last state read
        self.last_status = time.monotonic()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        n = getattr(config.option, "numprocesses", None)
        self.parallel = n if isinstance(n, int) and n > 0 else 1

    # what the plugin's hooks call ------------------------------------------------------------------
    def collection_finished(self, items: list[pytest.Item]) -> None:
        """Without xdist this process collects: the plan is known here."""
        self._set_plan(plan_runs(items, self.options, self.fixtures))

    def start(self) -> None:
        if self.config.pluginmanager.hasplugin("dsession"):
            # xdist: the workers train; this controller waits for their reports, so a thread can write.
            self.thread = threading.Thread(target=self._watch, name="fgcore-claims-progress", daemon=True)
            self.thread.start()
        else:
            # The tests train in this process, with their output captured: report from the training
            # loop itself (the main thread), with capturing suspended for the line.
            training_progress.LISTENERS.append(self._on_epoch)

    def _on_epoch(self) -> None:
        if self.plan is None:
            return
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        if capture is None:
            self._report()
            return
        with capture.global_and_fixture_disabled():
            self._report()

    def node_collection_finished(self) -> None:
        """Under xdist the workers collect; the first to finish has written the plan."""
        self._read_plan()

    def configure_node(self, node: Any) -> None:
        node.workerinput[WORKER_INPUT_KEY] = str(self.folder)

    def close(self) -> None:
        if self._on_epoch in training_progress.LISTENERS:
            training_progress.LISTENERS.remove(self._on_epoch)
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=5)
        settings.set_progress_dir(self.previous_env)
        shutil.rmtree(self.folder, ignore_errors=True)

    # the plan ---------------------------------------------------------------------------------------
    def _set_plan(self, plan: dict[str, Any] | None) -> None:
        with self.lock:
            if plan is None or self.plan is not None:
                return
            self.plan = plan
        self._write(header(plan))

    def _read_plan(self) -> None:
        if self.plan is None:
            try:
                self._set_plan(json.loads((self.folder / PLAN_FILE).read_text()))
            except (OSError, ValueError):
                pass

    # the thread -------------------------------------------------------------------------------------
    def _watch(self) -> None:
        while not self.stop.wait(TICK_SECONDS):
            try:
                self._read_plan()
                if self.plan is not None:
                    self._report()
            except Exception as exc:  # progress must never break the session
                self._write(f"fgcore: progress display stopped ({type(exc).__name__}: {exc})")
                return

    def _states(self) -> dict[str, dict[str, Any]]:
        states = {}
        for path in self.folder.glob("*.json"):
            if path.name == PLAN_FILE:
                continue
            try:
                states[path.stem] = json.loads(path.read_text())
            except (OSError, ValueError):  # being replaced right now: next tick
                continue
        return states

    def name(self, key: str, state: Mapping[str, Any] | None = None) -> str:
        run = (self.plan or {}).get("runs", {}).get(key)
        if run and run["experiments"]:
            shown = run["experiments"][0] + (f" +{len(run['experiments']) - 1}" if len(run["experiments"]) > 1 else "")
            return f"{shown} [{key[:8]}]" if self._ambiguous(run["experiments"][0]) else shown
        return (state or {}).get("label", key[:12])

    def _ambiguous(self, experiment: str) -> bool:
        """An experiment with several runs (a grid, seeds): its runs need their key to be told apart."""
        return sum(1 for r in self.plan["runs"].values() if r["experiments"][:1] == [experiment]) > 1

    def _report(self) -> None:
        states = self._states()
        for key, state in sorted(states.items(), key=lambda kv: kv[1].get("started", 0)):
            before = self.seen.get(key)
            if before is None and not state.get("done"):
                where = f" (resumed at epoch {state['initial']})" if state.get("initial") else ""
                self._write(f"fgcore: training {self.name(key, state)}: {state['total']} epochs{where}")
            if state.get("done") and not (before or {}).get("done"):
                seconds = state["updated"] - state["started"]
                self._write(f"fgcore: trained {self.name(key, state)} in {clock(seconds)} "
                            f"({state['total'] - state['initial']} epochs)")
            self.seen[key] = state
        now = time.monotonic()
        training = [s for s in states.values() if not s.get("done")]
        if training and now - self.last_status >= self.interval:
            self.last_status = now
            self._write(self.status(states))

    def status(self, states: Mapping[str, Mapping[str, Any]]) -> str:
        """One line: the runs in training with their epoch and time left, the count, the time left in all."""
        now = time.time()
        parts = []
        for key, state in sorted(states.items(), key=lambda kv: kv[1].get("started", 0)):
            if state.get("done"):
                continue
            pace = state.get("seconds_per_epoch")
            detail = f"epoch {state['epoch']}/{state['total']}"
            if pace:
                detail += f", ~{clock(pace * (state['total'] - state['epoch']))} left"
            if now - state.get("updated", now) > STALE_SECONDS:
                detail += f", no news for {clock(now - state['updated'])}"
            parts.append(f"{self.name(key, state)} ({detail})")
        plan_runs_ = self.plan["runs"] if self.plan else {}
        to_train = [k for k, r in plan_runs_.items() if not r["cached"]]
        trained = sum(1 for k, s in states.items() if s.get("done"))
        line = f"fgcore {clock(time.monotonic() - self.started)} | training " + ", ".join(parts)
        line += f" | {trained} of {max(len(to_train), trained)} trained"
        left, untimed = self.time_left(states, to_train)
        if left is not None:
            line += f", ~{clock(left)} left" + (f" + {untimed} run(s) not timed yet" if untimed else "")
        return line

    def time_left(self, states: Mapping[str, Mapping[str, Any]], to_train: list[str]) -> tuple[float | None, int]:
        """(seconds until the planned runs are trained, runs left out of that estimate).

        The runs in training count at their own pace, those not started at the pace seen for their
        family (data set and model), spread over the workers; a run of a family not timed yet is
        left out and counted.
        """
        paces: dict[str, list[float]] = {}
        for key, state in states.items():
            family = self.plan["runs"].get(key, {}).get("family")
            if state.get("seconds_per_epoch") and family:
                paces.setdefault(family, []).append(state["seconds_per_epoch"])
        running, waiting, untimed = [], 0.0, 0
        for key in to_train:
            state = states.get(key)
            run = self.plan["runs"][key]
            if state is not None and state.get("done"):
                continue
            if state is not None and state.get("seconds_per_epoch"):
                running.append(state["seconds_per_epoch"] * (state["total"] - state["epoch"]))
                continue
            family = paces.get(run["family"])
            if not family:
                untimed += 1
                continue
            waiting += sum(family) / len(family) * (run["epochs"] - (state or {}).get("epoch", 0))
        if not running and not waiting:
            return None, untimed
        return max(max(running, default=0.0), (sum(running) + waiting) / self.parallel), untimed

    def _write(self, text: str) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(text)


# -- the processes that collect (xdist workers) -----------------------------------------------------
def write_worker_plan(session: pytest.Session, options: Any, fixtures: Any) -> None:
    """An xdist worker writes the plan for the controller (before xdist reports its collection)."""
    config = session.config
    folder = getattr(config, "workerinput", {}).get(WORKER_INPUT_KEY)
    if not folder or not Path(folder).is_dir():
        return
    plan = plan_runs(session.items, options, fixtures)
    if plan is None:
        return
    temporary = Path(folder) / f".{PLAN_FILE}.{os.getpid()}.tmp"
    temporary.write_text(json.dumps(plan))
    os.replace(temporary, Path(folder) / PLAN_FILE)
