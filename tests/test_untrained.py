"""The untrained network: a Run seen as if it had ended at epoch 0 (fgcore.train.run.UntrainedRun), the
`untrained` control role the suite fills for every experiment, and every check's value recorded there."""

import numpy as np
import pytest

from fgcore import run_metrics
from fgcore.errors import FixtureError
from fgcore.suite.catalog import ClaimInfo
from fgcore.suite.checks import Check, Subject, measure_untrained, untrained_name
from fgcore.suite.record import ClaimRecord, NotMeasured, Threshold
from fgcore.train import RunSpec, train

TINY = dict(dataset="gaussian_mixture", data_args={"dim": 8, "n_per_class": 30, "sigma2": 25.0}, labeling="coarse:5",
            model="mlp", model_args={"width": 32, "depth": 1}, epochs=6, batch_size=50, lr=0.05,
            snapshot_epochs=(0, 3, 6))
AT_LEAST = Threshold(">=", 0.9, why="it learns", source="a test")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return train(RunSpec(**TINY), cache=tmp_path_factory.mktemp("cache"))


def test_the_untrained_view_reads_epoch_0_wherever_a_measure_asks(run):
    view = run.untrained()
    assert view.snapshot_epochs == (0,) and view.stats_epochs == (0,)
    for epoch in ("last", "first", 0, -1):
        np.testing.assert_array_equal(view.features(epoch, "test"), run.features(0, "test"))
        np.testing.assert_array_equal(view.distance_matrix(epoch), run.distance_matrix(0))
    assert [r["epoch"] for r in view.history] == [0]
    assert view.final_train_accuracy() == run.record(0)["train_acc"] < run.final_train_accuracy()
    assert run_metrics.collapse_curve(view)["nc1"] == [run.record(0)["nc1"]]
    assert view.key != run.key and view.path == run.path and view.untrained() is view
    with pytest.raises(ValueError, match="exist only at epochs"):
        view.features(3)
    # the run itself is untouched by its view
    assert run.snapshot_epochs == (0, 3, 6) and run.features("last") is not None


def test_a_result_kept_for_the_run_is_never_read_for_its_untrained_network(run):
    """CLP is kept per run (in the process and in the cache entry, shared with the view): the view's
    "last" is epoch 0, so its result must be epoch 0's, not the trained network's."""
    trained, untrained = run_metrics.clp(run, random_state=0), run_metrics.clp(run.untrained(), random_state=0)
    at_zero = run_metrics.clp(run, 0, random_state=0)

    def points(result):
        return np.concatenate([e.points for _, e in sorted(result.embeddings.items())])

    np.testing.assert_array_equal(points(untrained), points(at_zero))
    assert not np.allclose(points(untrained), points(trained))


def test_runs_that_start_from_the_same_network_share_their_untrained_results(run, tmp_path):
    """A grid's configurations at one seed start from one network: their untrained views have one key, so
    a result kept for one (CLP: seconds) serves the others; another seed is another network."""
    other_lr = train(RunSpec(**{**TINY, "lr": 0.01}), cache=tmp_path)
    other_seed = train(RunSpec(**{**TINY, "seed": 1}), cache=tmp_path)
    assert other_lr.key != run.key
    assert other_lr.untrained().key == run.untrained().key != other_seed.untrained().key


def test_a_run_without_epoch_0_has_no_untrained_view(tmp_path):
    late = train(RunSpec(**{**TINY, "snapshot_epochs": (3, 6), "stats_every": 0}), cache=tmp_path)
    with pytest.raises(ValueError, match="no features and no statistics stored at epoch 0"):
        late.untrained()


def accuracy(subject):
    return subject.run.final_train_accuracy()


def lead(subject):
    if not [e for e in subject.run.snapshot_epochs if e > 0]:
        raise NotMeasured("needs a snapshot after training starts")
    return 1.0


def claim_record():
    info = ClaimInfo("x", "Sec. 0", "statement", 0.1)
    return ClaimRecord(info, tier="fast", experiment="exp", nodeid="t", seeds=[0])


def subject_of(run):
    return Subject("exp", [({}, run)], seed=0, tier="fast", compare=lambda key: [({}, run)])


def test_every_check_is_recorded_on_the_untrained_network_and_as_a_control_where_it_names_the_role(run):
    r = claim_record()
    checks = [Check("accuracy", accuracy, AT_LEAST, controls=("untrained",)),
              Check("lead", lead, AT_LEAST, controls=("no_collapse",)),
              Check("ratio", accuracy, AT_LEAST, controls=("no_collapse",), untrained="1 by construction")]
    measure_untrained(r, checks, subject_of(run))
    out = {c["name"]: c for c in r.to_dict()["checks"]}
    assert out["accuracy"]["untrained"]["value"] == pytest.approx(run.record(0)["train_acc"])
    (control,) = out["accuracy"]["controls"]
    assert control["experiment"] == untrained_name("exp") == "exp@epoch0" and control["role"] == "untrained"
    assert control["status"] == "fails as expected"
    assert out["lead"]["untrained"]["value"] is None and "after training starts" in out["lead"]["untrained"]["note"]
    assert out["lead"]["controls"] == []
    assert out["ratio"]["untrained"]["value"] is None and "1 by construction" in out["ratio"]["untrained"]["note"]


def test_a_check_that_names_the_untrained_role_but_cannot_be_measured_there_is_an_error(run):
    r = claim_record()
    measure_untrained(r, [Check("lead", lead, AT_LEAST, controls=("untrained",))], subject_of(run))
    assert r.control_refs[("untrained", "exp@epoch0")].error.startswith("check 'lead' cannot be measured")


def test_a_check_on_which_the_untrained_network_cannot_pass_cannot_name_it_as_a_control():
    with pytest.raises(ValueError, match="no control"):
        Check("ratio", accuracy, AT_LEAST, controls=("untrained",), untrained="1 by construction")


def test_no_fixture_names_the_untrained_role(tmp_path, monkeypatch):
    from fgcore.experiments import load_experiment

    monkeypatch.setenv("FGCORE_FIXTURES", str(tmp_path))
    (tmp_path / "exp.toml").write_text('description = "d"\ntier = "fast"\n[controls]\nuntrained = "exp"\n'
                                       '[spec]\ndataset = "gaussian_mixture"\nlabeling = "coarse:5"\nmodel = "mlp"\n')
    with pytest.raises(FixtureError, match="the suite fills itself"):
        load_experiment("exp")
