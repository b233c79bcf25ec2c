"""Every claim test's code runs end to end on tiny CPU stand-ins of its experiments.

The gpu and slow claims (VGG, DenseNet, 1,000 epochs, the hyper-parameter grid, semantic
similarity, the CLP headline, CLP against OT, the appendices' claims at each configuration of a grid)
cannot run in CI; here tiny Gaussian-mixture fixtures carry their tags so that their measuring code,
controls, records and figures are exercised. Verdicts are not the point
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

GRID = '''
[controls]{}
[grid]
lr = [0.1, 0.05]
weight_decay = [5e-3, 5e-4]
'''

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
[compare]
ot = "smoke-original"
'''),
    # The appendices' grids (App. D-H): every claim judged at each configuration but (0.1, 5e-3).
    "smoke-coarse-grid": ('["coarse-grid", "random-coarse-grid", "densenet-grid"]', "coarse:5", "", GRID.format('''
no_subclusters = "smoke-hyperplane"
collapsed = "smoke-hyperplane"''')),
    "smoke-vgg-grid": ('["vgg-grid"]', "coarse:5", "", GRID.format('''
keeps_structure = "smoke-coarse"''')),
    "smoke-fine-grid": ('["fine-grid"]', "fine", "", GRID.format('''
no_class_structure = "smoke-fine-grid-control"
original_labels = "smoke-original"''')),
    "smoke-fine-grid-control": ("[]", "fine", "", ""),
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
        if name.startswith("smoke-fine-grid"):  # memorises its fine labels (measured: 100% at every point and
            # on the control), so the grid's checks are measured, not stopped by the terminal-phase precondition
            spec = spec.replace("dim = 8", "dim = 32")
            spec = spec.replace("sigma2 = 25.0", "sigma2 = 1e-8" if name.endswith("control") else "sigma2 = 1.0")
            spec = spec.replace("width = 32, depth = 2", "width = 256, depth = 2, batchnorm = true")
            spec = spec.replace("epochs = 12", "epochs = 40").replace("[0, 1, 4, 8, 12]", "[0, 1, 20, 40]")
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
    ran = {(r["id"], r["experiment"]): r for r in payload["claims"]}
    expected = {"nc1-collapse", "nc2-etf", "diag-first", "diag-darker-final", "tsne-subclusters", "clp-recovers",
                "densenet", "long-training", "random-coarse", "vgg-no-structure", "hparam-grid",
                "semantic-similarity", "fine-labels"}
    assert expected <= {cid for cid, _ in ran}, result.stdout[-3000:]
    errors = {key: r["message"] for key, r in ran.items() if r["verdict"] in ("error", "not run")}
    assert not errors, errors
    assert all(r["checks"] for r in ran.values() if r["verdict"] != "precondition failed")
    headline = ran["clp-recovers", "smoke-coarse"]
    assert {c["name"] for c in headline["checks"]} >= {"CLP test accuracy", "|CLP - LPO|", "|CLP - OT|"}
    assert {c["name"] for c in ran["densenet", "smoke-arch"]["checks"]} >= {"|CLP - LPO|", "|CLP - OT|"}
    # Each grid claim measured every configuration but (0.1, 5e-3), noted them and drew the grid's figures.
    grid_claims = {("diag-first", "smoke-coarse-grid"): 1, ("diag-darker-final", "smoke-coarse-grid"): 2,
                   ("clp-recovers", "smoke-coarse-grid"): 0, ("random-coarse", "smoke-coarse-grid"): 3,
                   ("densenet", "smoke-coarse-grid"): 3, ("vgg-no-structure", "smoke-vgg-grid"): 3,
                   ("fine-labels", "smoke-fine-grid"): 3}
    judged = ["lr 0.1 · wd 0.0005:", "lr 0.05 · wd 0.005:", "lr 0.05 · wd 0.0005:"]
    for key, heatmaps in grid_claims.items():
        record = ran[key]
        assert record["checks"] and all(c["name"].endswith(", worst configuration") for c in record["checks"]), key
        assert any("left out" in note and "lr 0.1 · wd 0.005" in note for note in record["notes"]), key
        values = [note for note in record["notes"] if "worst configuration" in note]
        assert len(values) == len(record["checks"]), key
        assert all(all(c in note for c in judged) and "lr 0.1 · wd 0.005:" not in note for note in values), key
        kinds = [f["kind"] for f in record["figures"]]
        assert kinds.count("distance_heatmaps") == heatmaps, key
        assert all(len(f["data"]["snapshots"]) == 4 for f in record["figures"] if f["kind"] == "distance_heatmaps")
        assert ("grid_clp_bars" in kinds) == (key[0] != "fine-labels" and "diag" not in key[0]), key
    assert (tmp_path / "report" / "index.html").is_file()
