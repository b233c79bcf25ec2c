"""Claims must be able to fail: a digits-coarse run cut to 2 epochs (an outside fixture) never reaches
the terminal phase, and every coarse claim, diag-first included, says so instead of holding."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COARSE_CLAIMS = {"nc1-collapse", "nc2-etf", "diag-first", "diag-darker-final", "tsne-subclusters", "clp-recovers"}


def test_a_run_cut_to_two_epochs_fails_every_coarse_claim_with_the_reason(tmp_path):
    mine = tmp_path / "fixtures"
    mine.mkdir()
    text = (REPO / "fixtures" / "digits-coarse.toml").read_text()
    text = re.sub(r"(?m)^epochs = \d+", "epochs = 2", text)
    text = re.sub(r"(?m)^snapshot_epochs = .*$", "snapshot_epochs = [0, 1, 2]", text)
    (mine / "digits-coarse-2ep.toml").write_text(text)
    env = {**os.environ, "FGCORE_FIXTURES": os.pathsep.join([str(mine), str(REPO / "fixtures")]),
           "FGCORE_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(REPO / "claims"), "--fg-experiments", "digits-coarse-2ep", "-p",
         "no:cacheprovider", "-p", "no:xdist", "-q", "--fg-report", str(tmp_path / "report"),
         "--rootdir", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    records = json.loads((tmp_path / "report" / "claims.json").read_text())["claims"]
    assert {r["id"] for r in records} == COARSE_CLAIMS, result.stdout[-3000:]
    for record in records:
        assert record["verdict"] == "precondition failed", (record["id"], record["verdict"], record["message"])
        assert "training accuracy" in record["message"] and "terminal phase" in record["message"]
    assert result.returncode == 1
