"""A mistake in a command is one `error:` line naming what was wrong and exit status 2, never a
traceback: an unknown name, a bad fixture or setting, missing data, a bad option (sweep included)."""

from __future__ import annotations

import pytest

from fgcore.cli import main
from fgcore.errors import FgcoreError, FixtureError, NotFoundError, SettingError, UnknownNameError, UsageError


@pytest.mark.parametrize("argv, env, message", [
    (["train", "no-such-experiment"], {}, "unknown experiment 'no-such-experiment'"),
    (["train", "digits-coarse"], {"FGCORE_PROFILE": "fast"}, "FGCORE_PROFILE='fast' is not a profile"),
    (["train", "{tmp}/missing.toml"], {}, "experiment file .*missing.toml does not exist"),
    (["train", "{tmp}/bad.toml"], {}, r"fixture .*bad.toml: `tier` must be one of"),
    (["data", "prepare", "imagenet"], {}, "name='imagenet' is not a known data set; valid names: digits"),
    (["cache", "verify", "0000000"], {}, "no cache entry starts with '0000000'"),
    (["cache", "rm"], {}, "give KEY prefixes to remove, or --incomplete"),
    (["sweep", "--seeds", "0", "digits-coarse"], {}, "--seeds must be at least 1"),
    (["sweep", "{tmp}/nothing.toml"], {}, "nothing.toml does not exist"),
    (["sweep", "--tier", "gpu", "--workers", "0"], {}, "--workers must be at least 1"),
])
def test_a_mistake_is_one_line_and_exit_status_2(argv, env, message, tmp_path, monkeypatch, capsys):
    (tmp_path / "bad.toml").write_text('tier = "medium"\n[spec]\ndataset = "digits"\n')
    monkeypatch.setenv("FGCORE_CACHE", str(tmp_path / "cache"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"fgcore {argv[0]}: error: ") and "Traceback" not in err
    assert __import__("re").search(message, err), err


def test_the_family_keeps_the_builtin_bases():
    """Code that catches ValueError / FileNotFoundError still catches fgcore's errors."""
    for error in (UnknownNameError, FixtureError, SettingError, UsageError):
        assert issubclass(error, FgcoreError) and issubclass(error, ValueError)
    assert issubclass(NotFoundError, FileNotFoundError)
    assert str(UnknownNameError("no such thing")) == "no such thing"
