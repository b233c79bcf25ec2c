"""The claims plugin end to end (pytester): tags parametrise claims, tiers come from fixtures,
a control that passes fails the claim, records reach the session JSON, gpu claims skip with a reason."""

import json
import textwrap

import pytest

from fgcore.errors import NotFoundError

pytest_plugins = ["pytester"]

FIXTURE = '''
description = "tiny Gaussian mixture on coarse labels"
tier = "{tier}"
tags = ["coarse"]
[controls]
no_collapse = "tiny-control"
[spec]
dataset = "gaussian_mixture"
data_args = {{ dim = 8, n_per_class = 20, sigma2 = 9.0 }}
labeling = "coarse:5"
model = "mlp"
model_args = {{ width = 16, depth = 1 }}
epochs = {epochs}
batch_size = 50
lr = {lr}
snapshot_epochs = [0, {epochs}]
'''

CLAIMS = '''
import pytest
from fgcore import run_metrics
from fgcore.suite.checks import Check
from fgcore.suite.record import Threshold


def accuracy(subject):
    return subject.run.final_train_accuracy()


LEARNS = Check("training accuracy at the end", accuracy, Threshold(">=", 0.9, why="it learns", source="test"),
               controls=("no_collapse",))
ANYTHING = Check("training accuracy, any value", accuracy, Threshold(">=", 0.0, why="cannot fail", source="test"),
                 controls=("no_collapse",))


@pytest.mark.claim("nc1-collapse", applies_to="coarse")
def test_good(claim):
    subject = claim.verify([LEARNS], terminal_phase=False)
    claim.figure("nc_curves", **run_metrics.collapse_curve(subject.run))


@pytest.mark.claim("nc2-etf", applies_to="coarse")
def test_control_cannot_fail(claim):
    claim.verify([LEARNS, ANYTHING], terminal_phase=False)


@pytest.mark.claim("diag-first", applies_to="coarse")
def test_control_misses_the_terminal_phase(claim):
    claim.verify([LEARNS], terminal_phase=claim.experiment.endswith("fast"))


@pytest.mark.claim("diag-darker-final", applies_to="coarse")
def test_role_without_a_control(claim):
    claim.verify([Check("x", accuracy, Threshold(">=", 0.9, why="w", source="s"), controls=("collapsed",))],
                 terminal_phase=False)
'''


def _plugin_args() -> list[str]:
    """Load the fgcore plugin explicitly only where its entry point is not installed (PYTHONPATH runs)."""
    import importlib.metadata

    installed = any(ep.name == "fgcore" for ep in importlib.metadata.entry_points(group="pytest11"))
    return [] if installed else ["-p", "fgcore.suite.plugin"]


@pytest.fixture
def project(pytester, tmp_path, monkeypatch):
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    (fixtures / "tiny-fast.toml").write_text(FIXTURE.format(tier="fast", epochs=30, lr=0.05))
    (fixtures / "tiny-gpu.toml").write_text(FIXTURE.format(tier="gpu", epochs=30, lr=0.05))
    # The control: the same data, barely trained (one epoch at a tiny learning rate).
    control = FIXTURE.format(tier="fast", epochs=1, lr=1e-6).replace('tags = ["coarse"]', "tags = []")
    (fixtures / "tiny-control.toml").write_text(control.replace('[controls]\nno_collapse = "tiny-control"\n', ""))
    monkeypatch.setenv("FGCORE_FIXTURES", str(fixtures))
    monkeypatch.setenv("FGCORE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    pytester.makepyfile(test_claims=CLAIMS)
    return pytester


def test_claims_run_by_tag_and_tier_with_records(project):
    result = project.runpytest_subprocess(*_plugin_args(), "-m", "fast", "--fg-report", "out", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=3, deselected=4)
    result.stdout.fnmatch_lines(["*check 'training accuracy, any value' holds on its control tiny-control*"])
    payload = json.loads((project.path / "out" / "claims.json").read_text())
    by_id = {r["id"]: r for r in payload["claims"]}
    good = by_id["nc1-collapse"]
    assert good["verdict"] == "holds" and good["control"]["verdict"] == "fails as expected"
    assert good["checks"][0]["controls"][0]["experiment"] == "tiny-control"
    assert good["experiment"] == "tiny-fast" and good["tier"] == "fast"
    assert good["figures"][0]["kind"] == "nc_curves"
    cannot_fail = by_id["nc2-etf"]
    assert cannot_fail["verdict"] == "fails" and cannot_fail["control"]["verdict"] == "passes (defect)"
    assert [c["controls"][0]["status"] for c in cannot_fail["checks"]] == ["fails as expected", "passes (defect)"]
    # A control that misses the claim's precondition is an error of the suite, not "fails as expected".
    missed = by_id["diag-first"]
    assert missed["verdict"] == "error" and missed["controls"][0]["status"] == "error"
    assert "misses the terminal-phase precondition" in missed["controls"][0]["message"]
    # A check whose role the fixture does not fill: an error that names the role and the fixture.
    unnamed = by_id["diag-darker-final"]
    assert unnamed["verdict"] == "error" and "names no control for collapsed" in unnamed["message"]
    assert (project.path / "out" / "index.html").is_file()
    assert list((project.path / "reports" / "sessions").glob("*.json"))


def test_gpu_claims_skip_with_the_reason(project):
    result = project.runpytest_subprocess(*_plugin_args(), "-m", "gpu", "-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=4, deselected=4)
    result.stdout.fnmatch_lines(["*no CUDA device*"])


def test_experiment_filter(project):
    result = project.runpytest_subprocess(*_plugin_args(), "--fg-experiments", "tiny-g*", "--collect-only", "-q", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*test_good[[]tiny-gpu[]]*"])
    assert "tiny-fast" not in result.stdout.str()



def test_under_xdist_the_environment_comes_from_the_worker_and_the_controller_never_imports_torch(project):
    """The report names the device the claims ran on (the workers'); the controller, which only gathers
    records and writes the report, must not spend seconds importing torch at the end of the session."""
    project.makeconftest('''
import sys

def pytest_configure(config):
    if not hasattr(config, "workerinput"):
        sys.modules["torch"] = None   # in the controller, `import torch` now raises ImportError
''')
    result = project.runpytest_subprocess(*_plugin_args(), "-n", "1", "-m", "fast", "-k", "test_good",
                                          "--fg-report", "out", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)   # (under xdist the controller does not count deselected tests)
    import torch

    environment = json.loads((project.path / "out" / "claims.json").read_text())["environment"]
    assert environment["torch"] == torch.__version__ and environment["cuda"] is None
    assert environment["scikit-learn"] and environment["cpu_count"]


@pytest.mark.parametrize("error, skips", [
    (NotFoundError("Fashion-MNIST (train) not found: looked for ... How to get it: apt-get install "
                   "dataset-fashion-mnist"), True),
    (FileNotFoundError("/cache/runs/abc/features/epoch_0001.safetensors"), False),
    (RuntimeError("the loss diverged"), False),
])
def test_only_data_missing_on_this_machine_skips_a_claim_any_other_error_is_one(tmp_path, monkeypatch, error, skips):
    """A FileNotFoundError of a broken cache or archive used to become a skip, and a claim could leave CI
    unnoticed; now only fgcore's NotFoundError (data not here, with how to get it) skips."""
    import fgcore.train
    from fgcore.experiments import Fixtures
    from fgcore.suite.options import SuiteOptions
    from fgcore.suite.runs import RunProvider

    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    (fixtures / "tiny-fast.toml").write_text(FIXTURE.format(tier="fast", epochs=2, lr=0.05)
                                             .replace('[controls]\nno_collapse = "tiny-control"\n', ""))
    monkeypatch.setenv("FGCORE_FIXTURES", str(fixtures))

    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(fgcore.train, "train", broken)
    options = SuiteOptions(profile="paper", seed=0, seeds=1, experiments=None, train="missing",
                           cache=str(tmp_path / "cache"), device="cpu", report=None, progress=0)
    provider = RunProvider(options, Fixtures())
    raised = None
    try:
        provider.runs("tiny-fast", 0)
    except pytest.skip.Exception as exc:   # caught here, or it would skip this test instead of failing it
        raised = exc
    except Exception as exc:  # noqa: BLE001
        raised = exc
    if skips:
        assert isinstance(raised, pytest.skip.Exception)
        assert str(raised).startswith("data for experiment tiny-fast not found: Fashion-MNIST")
    else:
        assert raised is error, f"{type(error).__name__} became {raised!r}"
