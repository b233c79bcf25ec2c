"""The slurm tier: `fgcore sweep --executor slurm` against a real single-node SLURM cluster.

tests/slurm/cluster.sh brings the cluster up (Debian's slurm-wlm, munge, and for accounting slurmdbd
with a MariaDB of its own) and down again by the daemons' PIDs; the `cluster` fixture runs it once
per variant, with accounting and without, so every scenario runs against both.

    pytest tests/slurm -m slurm -p no:xdist        # as root on a Debian machine (what .ci/run does)

Elsewhere the tier skips with the reason: only when selected with `-m slurm`, only as root, only
where SLURM is installed or apt-get can install it, never over a SLURM configuration the script did
not write (a real cluster's). FGCORE_REQUIRE_SLURM=1 (CI) turns those skips into failures.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

CLUSTER_SH = Path(__file__).with_name("cluster.sh")
STATE = Path(os.environ.get("FGCORE_SLURM_STATE", "/var/lib/fgcore-slurm-test"))
MARK = "written by fgcore tests/slurm/cluster.sh"
NOT_SELECTED = ("the slurm tier runs only when selected: `pytest tests/slurm -m slurm -p no:xdist` as root "
                "(it installs SLURM with apt-get and starts its daemons)")


def why_no_cluster() -> str | None:
    """Why no test cluster can be started here (None: it can)."""
    if os.geteuid() != 0:
        return "needs root: tests/slurm/cluster.sh installs SLURM (apt-get) and starts its daemons as root"
    installed = all(shutil.which(b) or Path("/usr/sbin", b).exists() for b in ("slurmctld", "slurmd", "sbatch"))
    if not installed and shutil.which("apt-get") is None:
        return "SLURM is not installed and there is no apt-get to install it (Debian: slurm-wlm munge)"
    conf = Path("/etc/slurm/slurm.conf")
    if conf.exists() and MARK not in conf.read_text(errors="replace"):
        return (f"{conf} exists and was not written by tests/slurm/cluster.sh: this machine belongs to a real "
                f"cluster, which the tier does not touch")
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return "the slurm tier brings one cluster up per session: run it without xdist (-p no:xdist)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "slurm" in (config.getoption("markexpr") or ""):
        return
    for item in items:
        if item.get_closest_marker("slurm"):
            item.add_marker(pytest.mark.skip(reason=NOT_SELECTED))


@dataclass
class Cluster:
    accounting: bool
    bring_up_seconds: float
    state: Path = STATE  # the script's folder: logs, PIDs, and the tests' work folders (not under /tmp)

    def squeue(self) -> dict[str, str]:
        """Array task id -> state of every job in the queue."""
        out = subprocess.run(["squeue", "--noheader", "--array", "--format=%i|%T"], capture_output=True, text=True,
                             check=True).stdout
        return dict(line.split("|", 1) for line in out.split())


@pytest.fixture(scope="session", params=["accounting", "no-accounting"])
def cluster(request: pytest.FixtureRequest):
    """A running single-node cluster, with or without accounting (sacct); down again afterwards."""
    reason = why_no_cluster()
    if reason:
        if os.environ.get("FGCORE_REQUIRE_SLURM") == "1":  # CI: a tier that cannot run is a failure
            pytest.fail(f"FGCORE_REQUIRE_SLURM=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    accounting = request.param == "accounting"
    started = time.monotonic()
    up = subprocess.run(["bash", str(CLUSTER_SH), "up", *([] if accounting else ["--no-accounting"])],
                        capture_output=True, text=True)
    if up.returncode != 0:  # root with apt (CI): a cluster that does not come up is a failure, not a skip
        subprocess.run(["bash", str(CLUSTER_SH), "down"], capture_output=True)
        pytest.fail(f"tests/slurm/cluster.sh up failed:\n{up.stderr[-4000:]}", pytrace=False)
    seconds = time.monotonic() - started
    print(f"\nslurm cluster up ({request.param}) in {seconds:.1f} s: {up.stderr.strip().splitlines()[-3]}")
    try:
        yield Cluster(accounting=accounting, bring_up_seconds=seconds)
    finally:
        down = subprocess.run(["bash", str(CLUSTER_SH), "down"], capture_output=True, text=True)
        if down.returncode != 0:
            print(f"tests/slurm/cluster.sh down failed:\n{down.stderr[-2000:]}")
