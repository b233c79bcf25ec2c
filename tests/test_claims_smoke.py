"""Every claim test's code runs end to end on tiny CPU stand-ins of its experiments.

The gpu and slow claims (VGG, DenseNet, 1,000 epochs, the hyper-parameter grid, semantic
similarity, the CLP headline) cannot run in CI; here tiny Gaussian-mixture fixtures carry their tags
so that their measuring code, controls, records and figures are exercised. Verdicts are not the point
(tiny runs prove nothing about the paper); no claim may end in an error.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SPEC = '''
[spec]
dataset = "gaussian_mixture"
data_args = {{ dim = 8, n_per_class = 30, sigma2 = 25.0{data} }}
labeling = "{labeling}"
model = "mlp"
model_args = {{ width = 32, depth = 2 }}
lr = 0.05
weight_decay = 5e-4
epochs = 12
batch_size = 60
snapshot_epochs = [0, 1, 4, 8, 12]
{extra}'''

# Every control role a claim names is filled (by another tiny stand-in: the verdicts do not matter here).
FIXTURES = {
    "smoke-coarse": ('["coarse"]', "coarse:5", "", '''
[controls]
no_collapse = "smoke-hyperplane"
no_subclusters = "smoke-hyperplane"
collapsed = "smoke-hyperplane"
[compare]
ot = "smoke-original"
[clp]
headline = true
'''),
    "smoke-original": ("[]", "identity", "", ""),
    "smoke-hyperplane": ("[]", "coarse:5", ', subclasses = "hyperplane"', ""),
    "smoke-arch": ('["densenet", "long-training", "random-coarse"]', "random_coarse:5", "", '''
[controls]
no_subclusters = "smoke-hyperplane"
collapsed = "smoke-hyperplane"
'''),
    "smoke-vgg": ('["vgg"]', "coarse:5", "", '''
[controls]
keeps_structure = "smoke-coarse"
'''),
    "smoke-grid": ('["hparam-grid"]', "coarse:5", "", '''
[controls]
excluded_run = "smoke-hyperplane"
[grid]
lr = [0.1, 0.05]
weight_decay = [5e-3, 5e-4]
'''),
    "smoke-natural": ('["natural-groups"]', "natural", "", '''
[compare]
random = "smoke-random"
[controls]
random_grouping = "smoke-random-control"
'''),
    "smoke-random": ("[]", "random_natural", "", ""),
    "smoke-random-control": ("[]", "random_natural", "", "seed = 7\n"),
    "smoke-fine": ('["fine"]', "fine", "", '''
[controls]
no_class_structure = "smoke-fine-control"
original_labels = "smoke-original"
'''),
    "smoke-fine-control": ("[]", "fine", "", ""),
}


def test_every_claim_runs_on_tiny_stand_ins(tmp_path):
    folder = tmp_path / "fixtures"
    folder.mkdir()
    for name, (tags, labeling, data, extra) in FIXTURES.items():
        spec = SPEC.format(labeling=labeling, data=data, extra="")
        if name == "smoke-fine-control":  # no class structure; wide and long enough to memorise its labels
            spec = spec.replace("sigma2 = 25.0", "sigma2 = 1e-8").replace("width = 32", "width = 256")
            spec = spec.replace("epochs = 12", "epochs = 150").replace("[0, 1, 4, 8, 12]", "[0, 1, 150]")
        tables = extra
        if extra.startswith("seed"):
            spec, tables = spec + extra, ""
        if "[grid]" in tables:
            head, grid = tables.split("[grid]")
            spec, tables = spec + "[grid]" + grid, head
        (folder / f"{name}.toml").write_text(
            f'description = "tiny stand-in"\ntier = "fast"\ntags = {tags}\n{tables}\n{spec}')
    env = {**os.environ, "FGCORE_FIXTURES": str(folder), "FGCORE_CACHE": str(tmp_path / "cache"),
           "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(REPO / "claims"), "-p", "no:cacheprovider", "-q",
         "--fg-report", str(tmp_path / "report"), "--rootdir", str(tmp_path), "-p", "no:xdist"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    payload = json.loads((tmp_path / "report" / "claims.json").read_text())
    ran = {r["id"]: r for r in payload["claims"]}
    expected = {"nc1-collapse", "nc2-etf", "diag-first", "diag-darker-final", "tsne-subclusters", "clp-recovers",
                "densenet", "long-training", "random-coarse", "vgg-no-structure", "hparam-grid",
                "semantic-similarity", "fine-labels"}
    assert expected <= set(ran), result.stdout[-3000:]
    errors = {cid: r["message"] for cid, r in ran.items() if r["verdict"] in ("error", "not run")}
    assert not errors, errors
    assert all(r["checks"] for r in ran.values() if r["verdict"] != "precondition failed")
    headline = ran["clp-recovers"]
    assert {c["name"] for c in headline["checks"]} >= {"CLP test accuracy", "|CLP - LPO|", "|CLP - OT|"}
    assert (tmp_path / "report" / "index.html").is_file()
