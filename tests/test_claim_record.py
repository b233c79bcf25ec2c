"""ClaimRecord verdicts: seed rules, controls that must fail, the JSON record."""

import json

import pytest

from fgcore.catalog import CLAIMS, ClaimInfo
from fgcore.claim_record import ClaimRecord


def record(rule="median"):
    info = ClaimInfo("x", "Sec. 0", "statement", "nc_curves", 0.1, seed_rule=rule)
    return ClaimRecord(info, tier="fast", experiment="exp", nodeid="t", seeds=[0, 1, 2])


def test_claim_holds_and_control_fails():
    r = record()
    for seed, value in enumerate([0.01, 0.02, 0.2]):   # median 0.02 <= 0.1
        r.check("ratio", value, "<=", 0.1, why="because", seed=seed)
        r.control("ratio", 1.0, "<=", 0.1, seed=seed, description="untrained")
    r.conclude()
    out = json.loads(json.dumps(r.to_dict()))
    assert out["verdict"] == "holds" and out["control"]["verdict"] == "fails as expected"
    assert out["value"] == pytest.approx(0.02) and out["checks"][0]["spread"] == pytest.approx(0.19)


def test_all_rule_needs_every_seed():
    r = record("all")
    for seed, value in enumerate([0.01, 0.02, 0.2]):
        r.check("ratio", value, "<=", 0.1, why="because", seed=seed)
    assert not r.holds


def test_failing_claim_raises_with_the_numbers():
    r = record()
    r.check("ratio", 0.5, "<=", 0.1, why="because")
    r.control("ratio", 1.0, "<=", 0.1, description="untrained")
    with pytest.raises(AssertionError, match=r"ratio: 0.5 <= 0.1 does not hold"):
        r.conclude()


def test_a_control_that_passes_is_a_defect():
    r = record()
    r.check("ratio", 0.05, "<=", 0.1, why="because")
    r.control("ratio", 0.05, "<=", 0.1, description="a control that cannot fail")
    with pytest.raises(AssertionError, match="negative control .* passes"):
        r.conclude()
    assert r.to_dict()["control"]["verdict"] == "passes (defect)"


def test_missing_control_or_checks_fail():
    r = record()
    r.check("ratio", 0.05, "<=", 0.1, why="because")
    with pytest.raises(AssertionError, match="no negative control"):
        r.conclude()
    with pytest.raises(AssertionError, match="recorded no check"):
        record().conclude()


def test_inconsistent_thresholds_are_rejected():
    r = record()
    r.check("ratio", 0.05, "<=", 0.1, why="because", seed=0)
    with pytest.raises(ValueError, match="two different thresholds"):
        r.check("ratio", 0.05, "<=", 0.2, why="because", seed=1)


def test_catalog_ids_are_the_design_ones():
    assert set(CLAIMS) == {
        "nc1-collapse", "nc2-etf", "diag-first", "diag-darker-final", "tsne-subclusters", "clp-recovers",
        "semantic-similarity", "fine-labels", "long-training", "densenet", "vgg-no-structure", "random-coarse",
        "hparam-grid", "gmm-sigma", "gmm-tau", "theory-separation"}
