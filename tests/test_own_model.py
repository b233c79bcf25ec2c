"""One new TOML file with an outside model and outside data runs through every claim that
applies to its tag, without code changes (the README tutorial, in a temporary folder)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

MY_FIXTURE = '''
description = "my model on my data, coarse labels"
tier = "fast"
tags = ["coarse"]

[controls]   # the repository's cheap no-sub-cluster mixture in every role (cheap, and it fails every check)
no_collapse = "gmm-hyperplane"
no_subclusters = "gmm-hyperplane"
collapsed = "gmm-hyperplane"

[spec]
dataset = "fgcore.examples.blobs:load"
data_args = { n_per_class = 100, dim = 16 }
labeling = "coarse:5"
model = "fgcore.examples.tiny_net:build"
model_args = { width = 128 }
lr = 0.1
weight_decay = 5e-4
schedule = "cosine"
epochs = 200
snapshot_epochs = [0, 1, 2, 5, 10, 20, 40, 80, 140, 200]
'''

COARSE_CLAIMS = {"nc1-collapse", "nc2-etf", "diag-first", "diag-darker-final", "tsne-subclusters", "clp-recovers"}


def test_an_outside_model_goes_through_every_coarse_claim(tmp_path):
    mine = tmp_path / "fixtures"
    mine.mkdir()
    (mine / "my-model.toml").write_text(MY_FIXTURE)
    env = {**os.environ, "FGCORE_FIXTURES": os.pathsep.join([str(mine), str(REPO / "fixtures")]),
           "FGCORE_CACHE": os.environ.get("FGCORE_CACHE", str(tmp_path / "cache")), "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(REPO / "claims"), "--fg-experiments", "my-model", "-p",
         "no:cacheprovider", "-q", "--fg-report", str(tmp_path / "report"), "--rootdir", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    records = json.loads((tmp_path / "report" / "claims.json").read_text())["claims"]
    assert {r["id"] for r in records} == COARSE_CLAIMS, result.stdout[-3000:]
    assert all(r["experiment"] == "my-model" for r in records)
    # Every claim measured something and judged it, with its control (whether a claim holds for a
    # model is the model's business; measured here: all six hold for this one, see the README).
    broken = {r["id"]: r["message"] for r in records
              if r["verdict"] not in ("holds", "fails") or r["control"]["verdict"] is None}
    assert not broken, (broken, result.stdout[-3000:])
    assert (tmp_path / "report" / "index.html").is_file()


@pytest.mark.parametrize("name, message", [
    ("fgcore.examples.nope:load", "cannot import module"),
    ("fgcore.examples.blobs:nope", "has no attribute"),
])
def test_outside_data_errors_say_what_is_wrong(name, message):
    from fgcore.data import load

    with pytest.raises(ValueError, match=message):
        load(name, "train")
