"""ClaimRecord verdicts: seed rules, every check failing on each of its controls, suite errors, JSON."""

import json
import math

import pytest

from fgcore.suite.catalog import CLAIMS, ClaimInfo
from fgcore.suite.record import ClaimRecord, NotMeasured, SuiteError, Threshold

RATIO = Threshold("<=", 0.1, why="because", source="a test")
GAP = Threshold(">=", 0.2, why="gap", source="a test")


def record(rule="median"):
    info = ClaimInfo("x", "Sec. 0", "statement", 0.1, seed_rule=rule)
    return ClaimRecord(info, tier="fast", experiment="exp", nodeid="t", seeds=[0, 1, 2])


def control(r, name, threshold, value, seed=0, role="no_collapse", experiment="ctl"):
    r.record_control(name, threshold, value, role=role, experiment=experiment, description="a control", seed=seed)


def test_claim_holds_when_every_check_fails_on_its_controls():
    r = record()
    for seed, value in enumerate([0.01, 0.02, 0.2]):   # median 0.02 <= 0.1
        r.record("ratio", RATIO, value, seed=seed)
        control(r, "ratio", RATIO, 1.0 + seed, seed=seed)
    r.conclude()
    out = json.loads(json.dumps(r.to_dict()))
    assert out["verdict"] == "holds" and out["control"]["verdict"] == "fails as expected"
    assert out["value"] == pytest.approx(0.02) and out["checks"][0]["spread"] == pytest.approx(0.19)
    entry = out["checks"][0]["controls"][0]
    assert entry["experiment"] == "ctl" and entry["role"] == "no_collapse" and entry["passed"] is False
    assert entry["status"] == "fails as expected" and entry["value"] == pytest.approx(2.0)
    assert out["checks"][0]["source"] == "a test" and out["controls"][0]["status"] == "fails as expected"


def test_all_rule_needs_every_seed():
    r = record("all")
    for seed, value in enumerate([0.01, 0.02, 0.2]):
        r.record("ratio", RATIO, value, seed=seed)
    assert not r.holds


def test_a_control_must_fail_at_every_seed():
    """The median rule is the experiment's; on a control a check that holds at any seed cannot tell."""
    r = record()
    for seed, (value, on_control) in enumerate([(0.01, 1.0), (0.02, 0.05), (0.03, 2.0)]):
        r.record("ratio", RATIO, value, seed=seed)
        control(r, "ratio", RATIO, on_control, seed=seed)   # median 1.0 fails, but seed 1 passes
    with pytest.raises(AssertionError, match=r"holds on its control ctl .no_collapse: 0.05 <= 0.1. at 1/3 seeds .1."):
        r.conclude()
    out = r.to_dict()
    entry = out["checks"][0]["controls"][0]
    assert entry["status"] == "passes (defect)" and entry["passing_seeds"] == [1] and entry["rule"] == "any"
    assert out["verdict"] == "fails" and out["control"]["verdict"] == "passes (defect)"


def test_a_control_that_fails_at_every_seed_says_so():
    r = record()
    for seed in range(3):
        r.record("ratio", RATIO, 0.01, seed=seed)
        control(r, "ratio", RATIO, 0.5 + seed, seed=seed)
    entry = r.to_dict()["checks"][0]["controls"][0]
    assert entry["status"] == "fails as expected" and entry["passing_seeds"] == [] and len(entry["values"]) == 3


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_a_non_finite_experiment_value_at_any_seed_is_an_error_not_absorbed_by_the_median(bad):
    r = record()
    for seed, value in enumerate([0.01, bad, 0.02]):
        r.record("ratio", RATIO, value, seed=seed)
        control(r, "ratio", RATIO, 1.0, seed=seed)
    with pytest.raises(SuiteError, match="non-finite value on its experiment"):
        r.conclude()
    out = json.loads(json.dumps(r.to_dict()))
    assert out["verdict"] == "error" and out["value"] == "nan" and out["checks"][0]["passed"] is False


def test_the_experiment_value_carries_a_bootstrap_interval_over_seeds():
    r = record()
    for seed, value in enumerate([0.01, 0.02, 0.04]):
        r.record("ratio", RATIO, value, seed=seed)
    out = r.to_dict()
    interval = out["checks"][0]["interval"]
    assert out["interval"] == interval and interval["confidence"] == 0.95
    assert 0.01 <= interval["low"] <= 0.02 <= interval["high"] <= 0.04
    assert "percentile bootstrap of the median over 3 seeds" in interval["method"]
    assert r.to_dict()["interval"] == interval   # seeded: the same values give the same interval
    one = ClaimRecord(CLAIMS["nc1-collapse"], tier="fast", experiment="exp", nodeid="t", seeds=[0])
    one.record("ratio", RATIO, 0.01)
    absent = one.to_dict()["interval"]
    assert absent["low"] is None and absent["high"] is None
    assert absent["why"].startswith("one seed (run the claims with --fg-seeds N")


def test_failing_claim_raises_with_the_numbers():
    r = record()
    r.record("ratio", RATIO, 0.5)
    control(r, "ratio", RATIO, 1.0)
    with pytest.raises(AssertionError, match=r"ratio: 0.5 <= 0.1 does not hold"):
        r.conclude()
    assert r.to_dict()["verdict"] == "fails"


def test_one_check_that_holds_on_its_control_is_a_defect_even_if_another_fails_there():
    """A control must fail every check that names it, not just one of them."""
    r = record()
    r.record("ratio", RATIO, 0.05)
    r.record("gap", GAP, 0.5)
    control(r, "ratio", RATIO, 1.0)     # fails as expected
    control(r, "gap", GAP, 0.4)         # holds on the control: this check cannot tell
    with pytest.raises(AssertionError, match="check 'gap' holds on its control ctl"):
        r.conclude()
    out = r.to_dict()
    assert out["verdict"] == "fails" and out["control"]["verdict"] == "passes (defect)"
    assert [c["controls"][0]["status"] for c in out["checks"]] == ["fails as expected", "passes (defect)"]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_non_finite_control_value_is_an_error_of_the_suite_not_a_failure(bad):
    r = record()
    r.record("ratio", RATIO, 0.05)
    control(r, "ratio", RATIO, bad)
    with pytest.raises(SuiteError, match="non-finite value on its control"):
        r.conclude()
    out = json.loads(json.dumps(r.to_dict()))
    assert out["verdict"] == "error" and out["checks"][0]["controls"][0]["status"] == "error"


def test_a_control_that_misses_its_precondition_is_an_error_of_the_suite():
    r = record()
    r.record("ratio", RATIO, 0.05)
    r.control_error("no_collapse", "ctl", "a control", "reached 97% training accuracy")
    with pytest.raises(SuiteError, match="ctl .no_collapse.: reached 97%"):
        r.conclude()
    assert r.to_dict()["controls"][0]["status"] == "error"


def test_every_check_needs_a_control():
    r = record()
    r.record("ratio", RATIO, 0.05)
    r.record("gap", GAP, 0.5)
    control(r, "ratio", RATIO, 1.0)
    with pytest.raises(SuiteError, match="check 'gap' has no negative control"):
        r.conclude()
    with pytest.raises(SuiteError, match="recorded no check"):
        record().conclude()


def test_an_unmeasured_value_fails_with_its_reason():
    r = record()
    r.record("lead", GAP, None, note="the same-superclass line never reaches darkness 0.5")
    control(r, "lead", GAP, 0.0)
    with pytest.raises(AssertionError, match="lead: not measured >= 0.2 does not hold .* never reaches"):
        r.conclude()
    assert r.to_dict()["checks"][0]["value"] is None


def test_median_rule_counts_unmeasured_seeds_as_failing():
    r = record()
    for seed, value in enumerate([0.5, None, None]):
        r.record("gap", GAP, value, seed=seed, note=None if value else "never emerges")
    assert not r.holds
    r2 = record()
    for seed, value in enumerate([0.5, 0.6, None]):
        r2.record("gap", GAP, value, seed=seed)
    assert r2.holds and r2.checks["gap"].series.value == pytest.approx(0.5)


def test_inconsistent_thresholds_are_rejected():
    r = record()
    r.record("ratio", RATIO, 0.05, seed=0)
    with pytest.raises(ValueError, match="two different thresholds"):
        r.record("ratio", Threshold("<=", 0.2, why="w", source="s"), 0.05, seed=1)


def test_thresholds_are_declared_with_their_reason_and_source():
    with pytest.raises(ValueError, match="why"):
        Threshold("<=", 0.1, why="", source="Fig. 3")
    with pytest.raises(ValueError, match="op must be one of"):
        Threshold("=<", 0.1, why="w", source="s")
    per_tier = Threshold(">=", {"fast": 0.8, "gpu": 0.9}, why="w", source="s")
    assert per_tier.at("gpu") == 0.9 and per_tier.at(None) == 0.8
    with pytest.raises(ValueError, match="no value for tier 'slow'"):
        per_tier.at("slow")


def test_not_measured_is_an_exception_a_measure_can_raise():
    assert issubclass(NotMeasured, Exception)


def test_catalog_ids_are_the_design_ones():
    assert set(CLAIMS) == {
        "nc1-collapse", "nc2-etf", "diag-first", "diag-darker-final", "tsne-subclusters", "clp-recovers",
        "semantic-similarity", "fine-labels", "long-training", "densenet", "vgg-no-structure", "random-coarse",
        "hparam-grid", "grid-fine-structure", "gmm-sigma", "gmm-tau", "theory-separation"}


def test_leaving_out_drops_the_picked_grid_points_and_refuses_to_drop_all():
    from fgcore.suite.checks import Subject, leaving_out
    from fgcore.suite.record import SuiteError

    runs = [({"lr": 0.1, "weight_decay": 5e-3}, "a"), ({"lr": 0.1, "weight_decay": 5e-4}, "b"), ({}, "c")]
    subject = Subject("grid", runs, seed=0, tier="fast", compare=lambda key: [])
    excluded = lambda point: (point.get("lr"), point.get("weight_decay")) == (0.1, 5e-3)  # noqa: E731
    assert leaving_out(subject, excluded).all_runs == ["b", "c"]
    assert leaving_out(subject, None) is subject
    with pytest.raises(SuiteError, match="leaves out every one of its 3"):
        leaving_out(subject, lambda point: True)


def test_a_check_must_name_a_known_control_role_it_fails_on():
    from fgcore.suite.checks import Check
    from fgcore.suite.record import Threshold

    threshold = Threshold(">=", 1.0, why="w", source="s")
    with pytest.raises(ValueError, match="name at least one control"):
        Check("x", lambda subject: 1.0, threshold, controls=())
    with pytest.raises(ValueError, match="unknown control role"):
        Check("x", lambda subject: 1.0, threshold, controls=("colapsed",))
