"""Every FGCORE_* environment variable fgcore reads, in one place.

Each accessor reads the environment when it is called (tests and users change variables while a
process runs), applies the default, parses the value and raises `SettingError` naming the variable
when the value cannot be used. An empty value counts as unset. `SETTINGS` lists the variables with
their defaults and meanings; README.md's table of variables is `markdown_table()` (a test keeps the
two equal).

Child processes: `child_environment()` is this process's environment with changes, for the
processes fgcore starts (sweep workers, apt-get).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from .errors import SettingError
from .vocabulary import PROFILES


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, its default (as a person reads it) and what it does."""

    name: str
    default: str
    meaning: str


CACHE = Setting("FGCORE_CACHE", "~/.cache/fgcore",
                "the cache folder: training runs in `runs/`, decoded and downloaded data in `data/`, sweep logs "
                "in `sweeps/`")
DATA = Setting("FGCORE_DATA", "(unset)",
               "a folder holding data sets (`fashion-mnist/`, `cifar-10-batches-py/`, ...), searched before the "
               "system folders")
CIFAR10 = Setting("FGCORE_CIFAR10", "official",
                  "where `cifar10` comes from: `official` (the python archive) or `image_folder:<path>` (a "
                  "class-per-folder copy such as the JPEG copy); part of each run's cache key")
DEVICE = Setting("FGCORE_DEVICE", "(unset)",
                 "the training device (`cpu`, `cuda`, `cuda:1`); unset: CUDA for bf16 runs when available, the "
                 "CPU for float32 runs")
COMPILE = Setting("FGCORE_COMPILE", "0",
                  "`1`: torch.compile the training forward pass (inductor); another value names the backend; "
                  "`0`: eager. Speed only, not part of the cache key")
CHECKPOINT_SECONDS = Setting("FGCORE_CHECKPOINT_SECONDS", "300",
                             "seconds between two resume checkpoints of a training run")
FIXTURES = Setting("FGCORE_FIXTURES", "./fixtures",
                   "the folders holding experiment definitions (TOML), separated by `:`; the first folder wins "
                   "on a name clash")
PROFILE = Setting("FGCORE_PROFILE", "paper",
                  "the profile of gpu experiments (`paper` or `quick`) for pytest `--fg-profile`, `fgcore train` "
                  "and `fgcore sweep`")
SEED = Setting("FGCORE_SEED", "0", "the base seed of pytest `--fg-seed`")
SEEDS = Setting("FGCORE_SEEDS", "1", "the number of base seeds of pytest `--fg-seeds`")
LOG_PROGRESS_SECONDS = Setting("FGCORE_LOG_PROGRESS_SECONDS", "30",
                               "seconds between two progress lines of a run whose output goes to a log "
                               "(a sweep worker, a SLURM task)")
PROGRESS_SECONDS = Setting("FGCORE_PROGRESS_SECONDS", "30",
                           "seconds between two progress reports of a claims session that trains (pytest "
                           "`--fg-progress`; 0: none)")
PROGRESS_DIR = Setting("FGCORE_PROGRESS_DIR", "(unset)",
                       "set by a claims session for its workers: the folder where each training run writes "
                       "its progress file")

SETTINGS: tuple[Setting, ...] = (CACHE, DATA, CIFAR10, DEVICE, COMPILE, CHECKPOINT_SECONDS, FIXTURES, PROFILE,
                                 SEED, SEEDS, LOG_PROGRESS_SECONDS, PROGRESS_SECONDS, PROGRESS_DIR)


def raw(setting: Setting) -> str | None:
    """The variable's value with surrounding blanks removed; None when it is unset or empty."""
    value = os.environ.get(setting.name, "").strip()
    return value or None


def _number(setting: Setting, default: float, *, what: str, integer: bool = False, minimum: float | None = None):
    value = raw(setting)
    if value is None:
        return default
    try:
        number = int(value) if integer else float(value)
    except ValueError:
        raise SettingError(f"{setting.name}={value!r}: expected {what}; unset it for the default "
                           f"({setting.default}).") from None
    if minimum is not None and not number >= minimum:
        raise SettingError(f"{setting.name}={value!r}: expected {what} (at least {minimum:g}).")
    return number


# -- where things are ------------------------------------------------------------------------------
def cache_root(root: str | os.PathLike | None = None) -> Path:
    """The cache folder: `root` when given, else $FGCORE_CACHE, else ~/.cache/fgcore."""
    if root is not None:
        return Path(root).expanduser()
    value = raw(CACHE)
    return Path(value).expanduser() if value else Path.home() / ".cache" / "fgcore"


def data_home() -> Path | None:
    """The folder named by $FGCORE_DATA, or None."""
    value = raw(DATA)
    return Path(value).expanduser() if value else None


def fixture_dirs() -> list[Path] | None:
    """The folders named by $FGCORE_FIXTURES (in order), or None when it is unset."""
    value = raw(FIXTURES)
    if value is None:
        return None
    return [Path(p).expanduser() for p in value.split(os.pathsep) if p.strip()]


def cifar10_source() -> str:
    """$FGCORE_CIFAR10: "official" (default) or "image_folder:<path>"."""
    value = raw(CIFAR10) or "official"
    if value != "official" and not (value.startswith("image_folder:") and value[len("image_folder:"):].strip()):
        raise SettingError(f"{CIFAR10.name}={value!r} is not a CIFAR-10 source; use 'official' (the python "
                           "archive) or 'image_folder:<path>' (a class-per-folder copy, e.g. the JPEG copy).")
    return value


# -- how runs train --------------------------------------------------------------------------------
def device() -> str | None:
    """$FGCORE_DEVICE (e.g. "cpu", "cuda:1"), or None: the trainer chooses."""
    return raw(DEVICE)


def compile_backend() -> str | None:
    """$FGCORE_COMPILE: None (unset, "" or "0": eager), "inductor" for "1", else the backend named."""
    value = raw(COMPILE)
    if value in (None, "0"):
        return None
    return "inductor" if value == "1" else value


def checkpoint_seconds() -> float:
    """$FGCORE_CHECKPOINT_SECONDS (default 300): seconds between two resume checkpoints."""
    return _number(CHECKPOINT_SECONDS, 300.0, what="a number of seconds, e.g. 300", minimum=0)


# -- what a session or sweep asks for --------------------------------------------------------------
def profile() -> str:
    """$FGCORE_PROFILE (default "paper")."""
    value = raw(PROFILE) or "paper"
    if value not in PROFILES:
        raise SettingError(f"{PROFILE.name}={value!r} is not a profile; use one of {', '.join(PROFILES)}.")
    return value


def seed() -> int:
    """$FGCORE_SEED (default 0): the base seed of a claims session."""
    return _number(SEED, 0, what="an integer seed, e.g. 0", integer=True)


def seeds() -> int:
    """$FGCORE_SEEDS (default 1): how many base seeds a claims session runs."""
    return _number(SEEDS, 1, what="a positive number of seeds, e.g. 3", integer=True, minimum=1)


# -- progress ----------------------------------------------------------------------------------------
def log_progress_seconds() -> float:
    """$FGCORE_LOG_PROGRESS_SECONDS (default 30): seconds between two progress lines in a log."""
    return _number(LOG_PROGRESS_SECONDS, 30.0, what="a number of seconds, e.g. 30", minimum=0)


def progress_seconds() -> float:
    """$FGCORE_PROGRESS_SECONDS (default 30): seconds between two progress reports of a claims session."""
    return _number(PROGRESS_SECONDS, 30.0, what="a number of seconds, e.g. 30 (0: none)", minimum=0)


def progress_dir() -> Path | None:
    """$FGCORE_PROGRESS_DIR: the folder for progress files of training runs, or None."""
    value = raw(PROGRESS_DIR)
    return Path(value) if value else None


def set_progress_dir(folder: str | os.PathLike | None) -> str | None:
    """Set (None: unset) $FGCORE_PROGRESS_DIR for this process and the processes it starts (a claims
    session's xdist workers); returns the previous value, to restore it."""
    previous = os.environ.get(PROGRESS_DIR.name)
    if folder is None:
        os.environ.pop(PROGRESS_DIR.name, None)
    else:
        os.environ[PROGRESS_DIR.name] = str(folder)
    return previous


# -- other processes ---------------------------------------------------------------------------------
def temp_dirs() -> tuple[Path, ...]:
    """The temporary folders this process is told about ($TMPDIR, $TMP, $TEMP), where set."""
    values = (os.environ.get(name, "").strip() for name in ("TMPDIR", "TMP", "TEMP"))
    return tuple(Path(v) for v in values if v)


def child_environment(changes: Mapping[str, str | None] = ()) -> dict[str, str]:
    """This process's environment with `changes` applied (None removes a variable), for a child process."""
    env = dict(os.environ)
    for name, value in dict(changes).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def markdown_table() -> str:
    """The README's table of the variables: one row per setting."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    rows += [f"| `{s.name}` | {s.default} | {s.meaning} |" for s in SETTINGS]
    return "\n".join(rows)
