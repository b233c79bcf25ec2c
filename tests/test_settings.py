"""fgcore.settings: every FGCORE_* variable read in one place, at call time, with its default and a
clear error for a value that cannot be used; the README's table is the module's."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from fgcore import settings
from fgcore.errors import SettingError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def clean(monkeypatch):
    for setting in settings.SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)
    return monkeypatch


def test_defaults(clean):
    assert settings.cache_root() == Path.home() / ".cache" / "fgcore"
    assert settings.data_home() is None and settings.device() is None and settings.fixture_dirs() is None
    assert settings.cifar10_source() == "official" and settings.profile() == "paper"
    assert (settings.seed(), settings.seeds()) == (0, 1)
    assert settings.checkpoint_seconds() == 300 and settings.log_progress_seconds() == 30
    assert settings.progress_seconds() == 30 and settings.progress_dir() is None
    assert settings.compile_backend() is None


def test_values_are_read_when_asked_for(clean, tmp_path):
    clean.setenv("FGCORE_CACHE", str(tmp_path))
    assert settings.cache_root() == tmp_path and settings.cache_root("~/x") == Path.home() / "x"
    clean.setenv("FGCORE_CACHE", "  ")  # empty counts as unset
    assert settings.cache_root() == Path.home() / ".cache" / "fgcore"
    clean.setenv("FGCORE_FIXTURES", f"{tmp_path}/a:{tmp_path}/b")
    assert settings.fixture_dirs() == [tmp_path / "a", tmp_path / "b"]
    clean.setenv("FGCORE_COMPILE", "1")
    assert settings.compile_backend() == "inductor"
    clean.setenv("FGCORE_COMPILE", "cudagraphs")
    assert settings.compile_backend() == "cudagraphs"
    clean.setenv("FGCORE_CIFAR10", "image_folder:/data/cifar_jpg")
    assert settings.cifar10_source() == "image_folder:/data/cifar_jpg"
    clean.setenv("FGCORE_SEEDS", "3")
    assert settings.seeds() == 3


@pytest.mark.parametrize("name, value, accessor, message", [
    ("FGCORE_CIFAR10", "jpeg", settings.cifar10_source, "FGCORE_CIFAR10='jpeg' is not a CIFAR-10 source"),
    ("FGCORE_CIFAR10", "image_folder:", settings.cifar10_source, "image_folder:<path>"),
    ("FGCORE_PROFILE", "fast", settings.profile, "FGCORE_PROFILE='fast' is not a profile; use one of paper, quick"),
    ("FGCORE_SEED", "one", settings.seed, "FGCORE_SEED='one': expected an integer seed"),
    ("FGCORE_SEEDS", "0", settings.seeds, r"FGCORE_SEEDS='0': expected a positive number of seeds.*at least 1"),
    ("FGCORE_CHECKPOINT_SECONDS", "5m", settings.checkpoint_seconds, "expected a number of seconds"),
    ("FGCORE_LOG_PROGRESS_SECONDS", "-1", settings.log_progress_seconds, "at least 0"),
])
def test_a_bad_value_names_the_variable(clean, name, value, accessor, message):
    clean.setenv(name, value)
    with pytest.raises(SettingError, match=message):
        accessor()


def test_the_readme_lists_every_setting():
    text = (REPO / "README.md").read_text()
    assert settings.markdown_table() in text, "README: regenerate the table with fgcore.settings.markdown_table()"


def test_fgcore_reads_the_environment_only_through_settings():
    """The environment is read in fgcore/settings.py; besides it only where a process passes it on to its
    children or pins itself to a GPU (sweep worker, fgcore.machine)."""
    found = subprocess.run(["grep", "-rln", r"os\.environ", "fgcore", "--include=*.py"], cwd=REPO,
                           capture_output=True, text=True).stdout.split()
    allowed = {"fgcore/settings.py", "fgcore/sweep/worker.py", "fgcore/machine.py"}
    assert set(found) <= allowed, sorted(set(found) - allowed)
    mentioned = set(re.findall(r"FGCORE_[A-Z0-9_]+", " ".join(
        p.read_text() for p in (REPO / "fgcore").rglob("*.py"))))
    assert mentioned <= {s.name for s in settings.SETTINGS}, sorted(mentioned - {s.name for s in settings.SETTINGS})
