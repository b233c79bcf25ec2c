"""Where no test cluster can be started, the slurm tier says why (these run in every session)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest


@pytest.fixture
def cluster_conftest(monkeypatch):
    spec = importlib.util.spec_from_file_location("slurm_tier_conftest", Path(__file__).with_name("conftest.py"))
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def test_not_root_is_the_reason(cluster_conftest, monkeypatch):
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    assert cluster_conftest.why_no_cluster().startswith("needs root")


def test_no_slurm_and_no_apt_is_the_reason(cluster_conftest, monkeypatch):
    monkeypatch.setattr("os.geteuid", lambda: 0)
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.setattr(cluster_conftest, "Path", lambda *parts: Path("/nonexistent", *parts[1:]))
    assert "no apt-get" in cluster_conftest.why_no_cluster()


def test_a_real_clusters_configuration_is_not_touched(cluster_conftest, monkeypatch, tmp_path):
    conf = tmp_path / "slurm.conf"
    conf.write_text("ClusterName=production\n")
    monkeypatch.setattr("os.geteuid", lambda: 0)
    monkeypatch.setattr("shutil.which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(cluster_conftest, "Path", lambda *parts: conf if parts == ("/etc/slurm/slurm.conf",)
                        else Path(*parts))
    assert "was not written by tests/slurm/cluster.sh" in cluster_conftest.why_no_cluster()
