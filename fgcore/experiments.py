"""Experiments: the TOML files in fixtures/ turned into RunSpecs.

A fixture is data, not code:

    extends = "digits-coarse"    # optional: share another experiment's run definition (tier, [spec],
                                 # [grid], [profiles]) and state only what differs
    description = "..."          # one line
    tier = "fast"                # fast | slow | gpu
    tags = ["coarse"]            # which families of claims apply to its runs
    [spec]                       # RunSpec fields (fgcore.train.RunSpec)
    dataset = "digits"
    ...
    [grid]                       # optional: one run per combination ("data_args.sigma2" reaches inside)
    weight_decay = [5e-3, 5e-4]
    setting = [{ "data_args.d" = 1000, lr = 3e-5 }, ...]   # a table sets dependent fields together
    replicate = [0, 1, 2]        # repetitions: added to the seed of every grid point
    [profiles.quick]             # optional: overrides of spec and grid under a profile
    spec = { epochs = 30 }
    grid = { weight_decay = [5e-4] }
    [controls]                   # negative controls: role = experiment (roles: fgcore.vocabulary.CONTROL_ROLES)
    no_collapse = "digits-coarse-no-collapse"
    [compare]                    # experiments a claim compares this one with: key = experiment
    random = "fmnist-random-groups"

Fixtures are looked up in the folders of a `Fixtures` (the first folder wins on a name clash):
$FGCORE_FIXTURES (folders separated by os.pathsep), else ./fixtures of the current folder. A pytest
session takes ``Fixtures.for_rootdir(rootdir)``: $FGCORE_FIXTURES, else <rootdir>/fixtures.
"""

from __future__ import annotations

import functools
import itertools
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from . import settings
from .errors import FixtureError, NotFoundError, UnknownNameError
from .train.resolve import resolve
from .train.spec import RunSpec
from .vocabulary import CONTROL_ROLES, PROFILES, TIERS, UNTRAINED

# A base seed S (pytest --fg-seed / --fg-seeds, fgcore train --seed) moves every seed of an experiment
# by S * BASE_SEED_STRIDE, far beyond the seeds a grid uses itself (replicates, per-point seeds), so
# two base seeds never share a run and their verdicts are independent repetitions.
BASE_SEED_STRIDE = 10_000


def fixture_dirs() -> list[Path]:
    """The default fixture folders: $FGCORE_FIXTURES, else ./fixtures of the current folder."""
    dirs = settings.fixture_dirs()
    return dirs if dirs is not None else [Path.cwd() / "fixtures"]


class Fixtures:
    """The experiments defined in some folders: `dirs` (default: fixture_dirs()), the first folder
    winning on a name clash."""

    def __init__(self, dirs: Sequence[str | os.PathLike] | None = None):
        self.dirs = tuple(Path(d) for d in (fixture_dirs() if dirs is None else dirs))
        # Loaded experiments by (file, state of the folders): a claims session asks for each fixture
        # about a thousand times (every claim is parametrised over every fixture), and validating one
        # builds all its RunSpecs. Any change to a fixture file, added or removed, loads afresh.
        self._loaded: dict[tuple, Experiment] = {}

    @classmethod
    def for_rootdir(cls, rootdir: str | os.PathLike) -> "Fixtures":
        """What a pytest session under `rootdir` reads: $FGCORE_FIXTURES when set, else <rootdir>/fixtures."""
        dirs = settings.fixture_dirs()
        return cls(dirs if dirs is not None else [Path(rootdir) / "fixtures"])

    def __repr__(self) -> str:
        return f"Fixtures({[str(d) for d in self.dirs]})"

    def _where(self) -> str:
        return ", ".join(f"{d}{'' if d.is_dir() else ' (no such folder)'}" for d in self.dirs) or "no folder"

    def available(self, tier: str | None = None) -> dict[str, Path]:
        """Experiment name -> path of every fixture found (the first folder wins on a name clash)."""
        found: dict[str, Path] = {}
        for folder in self.dirs:
            for path in sorted(folder.glob("*.toml")):
                found.setdefault(path.stem, path)
        if tier is not None:
            return {n: p for n, p in found.items() if self.load(p).tier == tier}
        return found

    def path(self, name: str) -> Path:
        """The fixture file of experiment `name`."""
        found = [d / f"{name}.toml" for d in self.dirs if (d / f"{name}.toml").is_file()]
        if not found:
            known = ", ".join(sorted(self.available())) or "(none found)"
            raise UnknownNameError(f"unknown experiment {name!r}; looked in {self._where()} (set FGCORE_FIXTURES "
                                   f"to other folders, or give the path of a .toml file); known experiments: {known}")
        return found[0]

    def load(self, name_or_path: str | os.PathLike) -> "Experiment":
        """An experiment by name (searched in the folders) or by the path of its TOML file."""
        path = Path(name_or_path)
        if path.suffix != ".toml":
            path = self.path(str(name_or_path))
        if not path.is_file():
            raise NotFoundError(f"experiment file {path} does not exist")
        key = (path.resolve(), self._state())
        if key not in self._loaded:
            self._loaded[key] = experiment_from_table(_read_toml(path), name=path.stem, path=path,
                                                      where=f"fixture {path}", fixtures=self)
        return self._loaded[key]

    def _state(self) -> tuple:
        """Name, mtime and size of every fixture file of the folders: what a loaded experiment depends on
        (its own file, the one it extends, the ones it names as controls)."""
        state = []
        for folder in self.dirs:
            try:
                entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
            except OSError:
                continue
            for entry in entries:
                if entry.name.endswith(".toml"):
                    stat = entry.stat()
                    state.append((entry.path, stat.st_mtime_ns, stat.st_size))
        return tuple(state)


def _set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    target = data
    for key in parents:
        target = target.setdefault(key, {})
        if not isinstance(target, dict):
            raise FixtureError(f"grid key {dotted!r}: {key!r} is not a table")
    target[last] = value


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class Experiment:
    name: str
    path: Path
    tier: str
    description: str
    tags: tuple[str, ...]
    spec: Mapping[str, Any]
    grid: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    profiles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    controls: Mapping[str, str] = field(default_factory=dict)   # role -> experiment
    compare: Mapping[str, str] = field(default_factory=dict)    # key -> experiment
    extends: str | None = None                                   # the experiment whose run definition it shares
    extra: Mapping[str, Any] = field(default_factory=dict)

    def runs(self, profile: str | None = None, seed: int = 0) -> list[tuple[dict[str, Any], RunSpec]]:
        """(grid point, RunSpec) for every combination of the grid under `profile`.

        `seed` is the base seed (`pytest --fg-seed`): every seed of the experiment moves by
        seed * BASE_SEED_STRIDE. The specs are resolved (fgcore.train.resolve): "auto" choices and the
        data set's options (a cifar10 run's source: FGCORE_CIFAR10) are written into them, so their
        keys are those of the runs train() produces.
        """
        spec, grid = dict(self.spec), dict(self.grid)
        if profile is not None and profile in self.profiles:
            override = self.profiles[profile]
            spec = _merge(spec, override.get("spec", {}))
            grid.update({k: tuple(v) for k, v in override.get("grid", {}).items()})
        keys = sorted(grid)
        out = []
        for values in itertools.product(*(grid[k] for k in keys)) if keys else [()]:
            point: dict[str, Any] = {}
            for key, value in zip(keys, values):
                # A table in a grid list sets several (dependent) fields at once, e.g.
                # setting = [{ "data_args.d" = 1000, lr = 3e-5, epochs = 30 }, ...]
                point.update(value if isinstance(value, Mapping) else {key: value})
            data = _merge({}, spec)
            for key, value in point.items():
                if key != "replicate":
                    _set_path(data, key, value)
            # `replicate` (a grid key) repeats every grid point with seeds offset by its values, so
            # each point and repetition gets its own data and initialisation (no shared noise
            # across the grid, which would correlate neighbouring points).
            data["seed"] = int(data.get("seed", 0)) + int(point.get("replicate", 0)) + BASE_SEED_STRIDE * seed
            if "snapshot_epochs" in data and data["snapshot_epochs"] is not None:
                data["snapshot_epochs"] = [e for e in data["snapshot_epochs"] if e <= data.get("epochs", 350)]
            try:
                out.append((point, resolve(RunSpec.from_dict(data), missing_data="keep")))
            except (TypeError, ValueError) as exc:
                raise FixtureError(f"fixture {self.path}: {exc}") from exc
        return out

    def run_specs(self, profile: str | None = None, seed: int = 0) -> list[RunSpec]:
        """The RunSpecs of runs(profile, seed), without their grid points."""
        return [spec for _, spec in self.runs(profile, seed)]


def load_experiment(name_or_path: str | os.PathLike, fixtures: Fixtures | None = None) -> Experiment:
    """An experiment by fixture name (searched in `fixtures`, default Fixtures()) or by the path of its
    TOML file."""
    return (fixtures or Fixtures()).load(name_or_path)


def available(tier: str | None = None, fixtures: Fixtures | None = None) -> dict[str, Path]:
    """Experiment name -> path of every fixture in `fixtures` (default Fixtures()), of `tier` if given."""
    return (fixtures or Fixtures()).available(tier)


def _read_toml(path: Path) -> dict[str, Any]:
    stat = path.stat()
    return _read_toml_version(path.resolve(), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=512)
def _read_toml_version(path: Path, mtime_ns: int, size: int) -> dict[str, Any]:
    """One parse per file version (a claims session asks for each fixture many times)."""
    with open(path, "rb") as handle:
        try:
            return tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise FixtureError(f"fixture {path}: not valid TOML ({exc})") from exc


# What a [profiles.<name>] table may hold: overrides of [spec] and [grid], and a note for the claim records
# (e.g. that a quick run is shorter than the paper's).
PROFILE_KEYS = ("spec", "grid", "note")

# What `extends` inherits: the run definition. The tags, controls, comparisons and description are the
# experiment's own (a control that extends an experiment must not become an experiment of its claims).
INHERITED = ("tier", "spec", "grid", "profiles")


def _resolve_extends(raw: Mapping[str, Any], where: str, fixtures: Fixtures,
                     chain: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fixture's tables with `extends = "<experiment>"` resolved: [spec] and [profiles] are merged
    into the base's (nested tables too, this file's values win), [grid] keys replace the base's ones,
    `tier` is the base's unless given."""
    raw = dict(raw)
    base_name = raw.pop("extends", None)
    if base_name is None:
        return raw
    if not isinstance(base_name, str):
        raise FixtureError(f"{where}: `extends` must name an experiment (a string), got {base_name!r}")
    if base_name in chain:
        raise FixtureError(f"{where}: `extends` goes round in a circle: {' -> '.join(chain + (base_name,))}")
    try:
        base_path = fixtures.path(base_name)
    except UnknownNameError as exc:
        raise FixtureError(f"{where}: extends = {base_name!r}: {exc}") from None
    base = _resolve_extends(_read_toml(base_path), f"fixture {base_path}", fixtures, chain + (base_name,))
    merged = {key: value for key, value in raw.items() if key not in INHERITED}
    merged["tier"] = raw.get("tier", base.get("tier"))
    merged["spec"] = _merge(base.get("spec", {}), raw.get("spec", {}))
    grid = {**base.get("grid", {}), **raw.get("grid", {})}
    profiles = _merge(base.get("profiles", {}), raw.get("profiles", {}))
    merged.update({"grid": grid} if grid else {})
    merged.update({"profiles": profiles} if profiles else {})
    merged["extends"] = base_name
    return merged


def experiment_from_table(table: Mapping[str, Any], *, name: str, path: Path, where: str,
                          default_tier: str | None = None, fixtures: Fixtures | None = None) -> Experiment:
    """An Experiment from the tables of a fixture (a file, or an [[experiment]] of a sweep file),
    validated: a typo fails at load time, not after hours of training. `where` names it in errors;
    `fixtures` (default Fixtures()) holds the experiments it extends and names as controls."""
    fixtures = fixtures or Fixtures()
    raw = _resolve_extends(table, where, fixtures)
    extends = raw.pop("extends", None)
    tier = raw.pop("tier", None) or default_tier
    if tier not in TIERS:
        raise FixtureError(f"{where}: `tier` must be one of {', '.join(TIERS)}, got {tier!r}")
    if not isinstance(raw.get("spec"), Mapping):
        raise FixtureError(f"{where}: a [spec] table with the RunSpec fields is required")
    grid = raw.pop("grid", {})
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise FixtureError(f"{where}: grid entry {key!r} must be a non-empty list")
    profiles = raw.pop("profiles", {})
    unknown = sorted(set(profiles) - set(PROFILES))
    if unknown:
        raise FixtureError(f"{where}: unknown profile(s) {unknown}; valid: {', '.join(PROFILES)}")
    for profile, table in profiles.items():
        extra_keys = sorted(set(table) - set(PROFILE_KEYS))
        if extra_keys:
            raise FixtureError(f"{where}: [profiles.{profile}] has unknown key(s) {extra_keys}; valid: "
                               f"{', '.join(PROFILE_KEYS)}")
    controls = raw.pop("controls", {})
    if isinstance(controls, Mapping) and UNTRAINED in controls:
        raise FixtureError(f"{where}: [controls] names {UNTRAINED!r}, a role the suite fills itself with the "
                           f"experiment's own runs at epoch 0; remove it (a check names it, no fixture does)")
    controls = _experiment_table(controls, "controls", where, fixtures,
                                 valid_keys={k: v for k, v in CONTROL_ROLES.items() if k != UNTRAINED})
    compare = _experiment_table(raw.pop("compare", {}), "compare", where, fixtures)
    experiment = Experiment(
        name=name, path=path, tier=tier, description=raw.pop("description", ""),
        tags=tuple(raw.pop("tags", ())), spec=raw.pop("spec"),
        grid={k: tuple(v) for k, v in grid.items()}, profiles=profiles, controls=controls, compare=compare,
        extends=extends, extra=raw)
    experiment.runs()  # every spec of the grid and profiles is built once here
    return experiment


def _experiment_table(table: Any, name: str, where: str, fixtures: Fixtures,
                      valid_keys: Mapping[str, str] | None = None) -> dict:
    """A [controls] or [compare] table: key -> the name of an experiment that exists. A typo is an error
    here, when the fixture loads, not a silent fallback hours later."""
    if not isinstance(table, Mapping):
        raise FixtureError(f"{where}: [{name}] must be a table of key = \"experiment name\"")
    known = None
    for key, value in table.items():
        if valid_keys is not None and key not in valid_keys:
            raise FixtureError(f"{where}: [{name}] has an unknown role {key!r}; roles: " + "; ".join(
                f"{role} ({meaning})" for role, meaning in valid_keys.items()))
        if not isinstance(value, str):
            raise FixtureError(f"{where}: [{name}] {key} must name an experiment (a string), got {value!r}")
        known = fixtures.available() if known is None else known
        if value not in known:
            raise FixtureError(f"{where}: [{name}] {key} = {value!r} names no experiment; looked in "
                               f"{fixtures._where()}")
    return dict(table)
