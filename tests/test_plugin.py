"""The claims plugin end to end (pytester): tags parametrise claims, tiers come from fixtures,
a control that passes fails the claim, records reach the session JSON, gpu claims skip with a reason."""

import json
import textwrap

import pytest

pytest_plugins = ["pytester"]

FIXTURE = '''
description = "tiny Gaussian mixture on coarse labels"
tier = "{tier}"
tags = ["coarse"]
[spec]
dataset = "gaussian_mixture"
data_args = {{ dim = 8, n_per_class = 20, sigma2 = 9.0 }}
labeling = "coarse:5"
model = "mlp"
model_args = {{ width = 16, depth = 1 }}
epochs = 3
batch_size = 50
lr = 0.05
snapshot_epochs = [0, 3]
'''

CLAIMS = '''
import pytest
from fgcore import analysis

@pytest.mark.claim("nc1-collapse", applies_to="coarse")
def test_good(claim):
    run = claim.run()
    curve = analysis.collapse_curve(run)
    claim.check("NC1 end / NC1 start", curve["nc1"][-1] / curve["nc1"][0], "<=", 10.0, why="loose on purpose")
    claim.control("NC1 end / NC1 start", 100.0, "<=", 10.0, description="a control that fails")
    claim.figure("nc_curves", **curve)

@pytest.mark.claim("nc2-etf", applies_to="coarse")
def test_control_cannot_fail(claim):
    claim.run()
    claim.check("x", 1.0, "<=", 2.0, why="w")
    claim.control("x", 1.0, "<=", 2.0, description="same as the claim")
'''


def _plugin_args() -> list[str]:
    """Load the fgcore plugin explicitly only where its entry point is not installed (PYTHONPATH runs)."""
    import importlib.metadata

    installed = any(ep.name == "fgcore" for ep in importlib.metadata.entry_points(group="pytest11"))
    return [] if installed else ["-p", "fgcore.pytest_plugin"]


@pytest.fixture
def project(pytester, tmp_path, monkeypatch):
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    (fixtures / "tiny-fast.toml").write_text(FIXTURE.format(tier="fast"))
    (fixtures / "tiny-gpu.toml").write_text(FIXTURE.format(tier="gpu"))
    monkeypatch.setenv("FGCORE_FIXTURES", str(fixtures))
    monkeypatch.setenv("FGCORE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    pytester.makepyfile(test_claims=CLAIMS)
    return pytester


def test_claims_run_by_tag_and_tier_with_records(project):
    result = project.runpytest_subprocess(*_plugin_args(), "-m", "fast", "--fg-report", "out", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1, deselected=2)
    result.stdout.fnmatch_lines(["*negative control (same as the claim) passes the claim's checks too*"])
    payload = json.loads((project.path / "out" / "claims.json").read_text())
    by_id = {r["id"]: r for r in payload["claims"]}
    assert by_id["nc1-collapse"]["verdict"] == "holds"
    assert by_id["nc1-collapse"]["control"]["verdict"] == "fails as expected"
    assert by_id["nc1-collapse"]["experiment"] == "tiny-fast" and by_id["nc1-collapse"]["tier"] == "fast"
    assert by_id["nc1-collapse"]["figures"][0]["kind"] == "nc_curves"
    assert by_id["nc2-etf"]["control"]["verdict"] == "passes (defect)"
    assert (project.path / "out" / "index.html").is_file()
    assert list((project.path / "reports" / "sessions").glob("*.json"))


def test_gpu_claims_skip_with_the_reason(project):
    result = project.runpytest_subprocess(*_plugin_args(), "-m", "gpu", "-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=2, deselected=2)
    result.stdout.fnmatch_lines(["*no CUDA device*"])


def test_experiment_filter(project):
    result = project.runpytest_subprocess(*_plugin_args(), "--fg-experiments", "tiny-g*", "--collect-only", "-q", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*test_good[[]tiny-gpu[]]*"])
    assert "tiny-fast" not in result.stdout.str()

