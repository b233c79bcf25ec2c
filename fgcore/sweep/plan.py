"""Planning a sweep: experiment names, fixture files or a sweep file -> the distinct RunSpecs to train.

A sweep file (``grid.toml``; any name ending in .toml that has no ``[spec]`` table) says which runs
to produce together:

    profile = "quick"                  # optional; --profile on the command line wins
    seeds = [0, 1]                     # optional base seeds (pytest --fg-seed); --seed/--seeds win
    experiments = ["cifar10-resnet18-coarse", "fixtures/extra.toml"]   # fixture names or files
                                       # (relative to the sweep file)
    tiers = ["gpu"]                    # optional: every fixture of these tiers

    [[experiment]]                     # optional: an experiment written in place, with the same
    name = "cifar10-resnet18-wd1e-3"   # tables as a fixture file (spec, grid, profiles); it fills
    spec = { dataset = "cifar10", labeling = "coarse:5", model = "resnet18", weight_decay = 1e-3 }
                                       # the cache but no claim reads it (claims read fixtures/)
    [slurm]                            # optional defaults of the slurm options (the command line wins)
    partition = "gpu"
    time = "12:00:00"

Several experiments often ask for the same run (e.g. an original-label baseline shared by claims):
runs are deduplicated by cache key. A run whose cache entry is complete is skipped; the plan says how
many. The sweep id names the folder of the sweep's logs; it is a function of the requested runs, so
the same command started again after an interruption writes to the same folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .. import settings
from ..errors import FixtureError, NotFoundError, UsageError
from ..experiments import PROFILES, TIERS, Experiment, available, experiment_from_table, load_experiment
from ..train.cache import RunStore, cache_root
from ..train.spec import RunSpec

SWEEP_FILE_KEYS = ("profile", "seeds", "experiments", "tiers", "experiment", "slurm", "description")


def default_profile() -> str:
    """The profile pytest uses by default ($FGCORE_PROFILE, else paper), so a sweep fills what claims read."""
    return settings.profile()


@dataclass(frozen=True)
class PlannedRun:
    """One distinct run of the sweep and every experiment grid point that asks for it."""

    spec: RunSpec
    sources: tuple[str, ...]

    @property
    def key(self) -> str:
        return self.spec.key

    def describe(self) -> str:
        return f"{self.spec.short} [{self.key[:12]}]"


@dataclass
class SweepFile:
    """A parsed sweep file."""

    path: Path
    profile: str | None
    seeds: tuple[int, ...] | None
    experiments: list[Experiment]
    slurm: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    """What a sweep will do: every distinct run, split into complete (skipped) and to do."""

    sweep_id: str
    cache: Path
    profile: str
    seeds: tuple[int, ...]
    experiments: tuple[str, ...]
    runs: list[PlannedRun]
    complete: list[PlannedRun]
    todo: list[PlannedRun]
    requested: int
    in_progress: list[PlannedRun] = field(default_factory=list)
    slurm_defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def sweep_dir(self) -> Path:
        return self.cache / "sweeps" / self.sweep_id

    def log_path(self, run: PlannedRun) -> Path:
        return self.sweep_dir / f"{run.key}.log"

    def summary(self) -> str:
        shared = self.requested - len(self.runs)
        parts = [f"{len(self.experiments)} experiment(s), profile {self.profile}, seed(s) "
                 f"{', '.join(map(str, self.seeds))}: {len(self.runs)} distinct run(s)"]
        if shared:
            parts.append(f"({shared} requested more than once)")
        text = " ".join(parts) + f"; {len(self.complete)} already complete in {self.cache} (skipped), " \
                                 f"{len(self.todo)} to run"
        if self.in_progress:
            text += f" ({len(self.in_progress)} of them being trained by another process right now)"
        return text

    def describe(self) -> str:
        """The table `--dry-run` prints: one line per distinct run."""
        busy = {r.key for r in self.in_progress}
        done = {r.key for r in self.complete}
        lines = []
        for run in self.runs:
            state = "complete" if run.key in done else ("in progress" if run.key in busy else
                                                         "partial" if self._started(run) else "to run")
            lines.append(f"  {run.key[:12]}  {state:11s}  {run.spec.short}  <- {', '.join(run.sources)}")
        return "\n".join(lines)

    def _started(self, run: PlannedRun) -> bool:
        return RunStore(self.cache).entry(run.key).path.is_dir()

    def write(self) -> Path:
        """Write plan.json into the sweep folder (what ran, for the user and for later sweeps)."""
        from ..fileio import atomic_write_json

        path = self.sweep_dir / "plan.json"
        atomic_write_json(path, {
            "sweep_id": self.sweep_id, "profile": self.profile, "seeds": list(self.seeds),
            "experiments": list(self.experiments),
            "runs": [{"key": r.key, "short": r.spec.short, "sources": list(r.sources),
                      "complete_before": r in self.complete, "spec": r.spec.to_dict()} for r in self.runs]})
        return path


# -- sweep files -----------------------------------------------------------------------------------
def is_sweep_file(path: Path) -> bool:
    """A .toml file without a [spec] table (a fixture file has one)."""
    with open(path, "rb") as handle:
        raw = tomllib.load(handle)
    return "spec" not in raw


def _int_list(path: Path, name: str, value: Any) -> tuple[int, ...]:
    values = [value] if isinstance(value, int) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, int) for v in values):
        raise FixtureError(f"sweep file {path}: `{name}` must be an integer or a non-empty list of integers, "
                           f"got {value!r}")
    return tuple(values)


def _inline_experiment(path: Path, table: Mapping[str, Any], index: int) -> Experiment:
    """An [[experiment]] table of a sweep file, validated like a fixture file."""
    where = f"sweep file {path}, [[experiment]] #{index + 1}"
    table = dict(table)
    name = table.pop("name", None)
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9._+-]+", name):
        raise FixtureError(f"{where}: `name` must be a short name of letters, digits, '.', '_', '+' or '-', "
                           f"got {name!r}")
    return experiment_from_table(table, name=name, path=path, where=f"{where} ({name})", default_tier="gpu")


def load_sweep_file(path: str | os.PathLike) -> SweepFile:
    """Parse a sweep file (format: the module docstring)."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        raise NotFoundError(f"sweep file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise FixtureError(f"sweep file {path}: not valid TOML ({exc})") from exc
    unknown = sorted(set(raw) - set(SWEEP_FILE_KEYS))
    if unknown:
        raise FixtureError(f"sweep file {path}: unknown key(s) {', '.join(unknown)}; valid keys are "
                           f"{', '.join(SWEEP_FILE_KEYS)} (a fixture file would have a [spec] table)")
    profile = raw.get("profile")
    if profile is not None and profile not in PROFILES:
        raise FixtureError(f"sweep file {path}: `profile` must be one of {', '.join(PROFILES)}, got {profile!r}")
    seeds = _int_list(path, "seeds", raw["seeds"]) if "seeds" in raw else None
    names = raw.get("experiments", [])
    tiers = raw.get("tiers", [])
    for key, value in (("experiments", names), ("tiers", tiers)):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise FixtureError(f"sweep file {path}: `{key}` must be a list of strings, got {value!r}")
    bad_tiers = sorted(set(tiers) - set(TIERS))
    if bad_tiers:
        raise FixtureError(f"sweep file {path}: unknown tier(s) {bad_tiers}; valid: {', '.join(TIERS)}")
    experiments = [load_experiment(path.parent / n if n.endswith(".toml") else n) for n in names]
    experiments += [load_experiment(p) for t in tiers for p in available(t).values()]
    inline = raw.get("experiment", [])
    if not isinstance(inline, list):
        raise FixtureError(f"sweep file {path}: write inline experiments as [[experiment]] tables")
    experiments += [_inline_experiment(path, table, i) for i, table in enumerate(inline)]
    if not experiments:
        raise FixtureError(f"sweep file {path} names no runs: give `experiments = [...]`, `tiers = [...]` "
                           f"or [[experiment]] tables")
    slurm = raw.get("slurm", {})
    if not isinstance(slurm, dict):
        raise FixtureError(f"sweep file {path}: [slurm] must be a table")
    return SweepFile(path=path, profile=profile, seeds=seeds, experiments=experiments, slurm=slurm)


# -- planning --------------------------------------------------------------------------------------
def _resolve_targets(targets: Sequence[str], tiers: Sequence[str]) -> tuple[list[Experiment], list[SweepFile]]:
    experiments: list[Experiment] = []
    files: list[SweepFile] = []
    for target in targets:
        path = Path(target)
        if path.suffix == ".toml":
            if not path.is_file():
                raise NotFoundError(f"{target} does not exist (give an experiment name, a fixture file "
                                    f"or a sweep file)")
            if is_sweep_file(path):
                files.append(load_sweep_file(path))
                continue
        experiments.append(load_experiment(target))
    for tier in tiers:
        if tier not in TIERS:
            raise UsageError(f"--tier: {tier!r} is not one of {', '.join(TIERS)}")
        found = available(tier)
        if not found:
            raise UsageError(f"--tier {tier}: no experiment of that tier in the fixtures folder(s)")
        experiments += [load_experiment(p) for p in found.values()]
    return experiments, files


def _slug(names: Sequence[str]) -> str:
    first = re.sub(r"[^A-Za-z0-9._+-]+", "_", names[0])[:40] if names else "sweep"
    return first + (f"+{len(names) - 1}" if len(names) > 1 else "")


def _lock_held_elsewhere(entry) -> bool:
    """True when another process holds the entry's training lock (checked only for started entries)."""
    import filelock

    if not entry.path.is_dir():
        return False
    lock = filelock.FileLock(str(entry.lock_path))
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        return True
    lock.release()
    return False


def plan_sweep(targets: Sequence[str] = (), *, tiers: Sequence[str] = (), profile: str | None = None,
               seeds: Iterable[int] | None = None, cache: str | os.PathLike | None = None) -> Plan:
    """Expand experiment names / fixture files / sweep files (and whole tiers) into a Plan.

    profile: None takes the sweep file's profile, else $FGCORE_PROFILE, else "paper" (what pytest
    reads by default). seeds: base seeds as for `pytest --fg-seed` (None: the sweep file's, else [0]).
    """
    if not targets and not tiers:
        raise UsageError("name what to sweep: experiment names (fixtures/NAME.toml), a sweep file "
                         "(grid.toml) or --tier gpu")
    experiments, files = _resolve_targets(targets, tiers)
    file_profiles = {f.profile for f in files if f.profile is not None}
    file_seeds = {f.seeds for f in files if f.seeds is not None}
    if profile is None:
        if len(file_profiles) > 1:
            raise UsageError(f"the sweep files ask for different profiles {sorted(file_profiles)}; "
                             f"pass --profile to choose one")
        profile = file_profiles.pop() if file_profiles else default_profile()
    if profile not in PROFILES:
        raise UsageError(f"profile must be one of {', '.join(PROFILES)}, got {profile!r}")
    if seeds is None:
        if len(file_seeds) > 1:
            raise UsageError("the sweep files ask for different seeds; pass --seed/--seeds to choose")
        seeds = file_seeds.pop() if file_seeds else (0,)
    seeds = tuple(int(s) for s in seeds)
    for f in files:
        experiments += f.experiments
    slurm_defaults: dict[str, Any] = {}
    for f in files:
        slurm_defaults.update(f.slurm)

    by_key: dict[str, tuple[RunSpec, list[str]]] = {}
    requested = 0
    names: list[str] = []
    for experiment in experiments:
        if experiment.name not in names:
            names.append(experiment.name)
        for seed in seeds:
            for point, spec in experiment.runs(profile, seed=seed):
                requested += 1
                label = experiment.name + (f"[{', '.join(f'{k}={v}' for k, v in point.items())}]" if point else "")
                label += f"@seed{seed}" if len(seeds) > 1 else ""
                spec_, sources = by_key.setdefault(spec.key, (spec, []))
                if label not in sources:
                    sources.append(label)
    runs = [PlannedRun(spec, tuple(sources)) for spec, sources in by_key.values()]
    root = cache_root(cache).expanduser().absolute()
    store = RunStore(root)
    complete = [r for r in runs if store.entry(r.key).is_complete()]
    todo = [r for r in runs if r not in complete]
    in_progress = [r for r in todo if _lock_held_elsewhere(store.entry(r.key))]
    digest = hashlib.sha256(json.dumps(sorted(by_key)).encode()).hexdigest()[:10]
    sweep_id = f"{_slug(names)}-{profile}-{digest}"
    return Plan(sweep_id=sweep_id, cache=root, profile=profile, seeds=seeds, experiments=tuple(names),
                runs=runs, complete=complete, todo=todo, requested=requested, in_progress=in_progress,
                slurm_defaults=slurm_defaults)
