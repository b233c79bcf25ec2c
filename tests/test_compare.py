"""`fgcore compare`: a flipped verdict, a changed control, a drift beyond tolerance or a removed claim fails;
the rest is reported."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fgcore.suite.catalog import CLAIMS
from fgcore.cli import main as fgcore_main
from fgcore.report import baseline
from fgcore.report.compare import compare, format_table

SAMPLE = Path(__file__).parent / "data" / "claims_sample.json"
SAMPLE_V1 = Path(__file__).parent / "data" / "claims_sample_v1.json"   # one control object per record
PAYLOAD = json.loads(SAMPLE.read_text())
KEY = ("nc1-collapse", "digits-coarse")   # holds, value 0.018, two checks, each with the no-collapse control
NO_COLLAPSE = "digits-coarse-no-collapse"


def payload() -> dict:
    return copy.deepcopy(PAYLOAD)


def record_of(p: dict, key=KEY) -> dict:
    return next(r for r in p["claims"] if (r["id"], r["experiment"]) == key)


def row_of(result, key=KEY):
    return next(r for r in result.rows if (r.id, r.experiment) == key)


def write(tmp_path: Path, name: str, p: dict) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(p))
    return str(path)


def test_identical_runs_compare_clean(tmp_path, capsys):
    result = compare(PAYLOAD, PAYLOAD)
    assert not result.failed
    assert {r.status for r in result.rows} == {"ok", "skipped"}
    assert fgcore_main(["compare", str(SAMPLE), str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["claim", "experiment", "baseline", "current", "delta", "tolerance", "status"]
    assert "-> no regression" in out


def test_a_flipped_verdict_fails(tmp_path, capsys):
    current = payload()
    record_of(current)["verdict"] = "fails"
    result = compare(PAYLOAD, current)
    assert result.failed and row_of(result).status == "FLIPPED"
    assert fgcore_main(["compare", str(SAMPLE), write(tmp_path, "cur.json", current)]) == 1
    out = capsys.readouterr().out
    assert "FLIPPED" in out and "verdict holds -> fails" in out and "-> REGRESSION" in out


def move(rec: dict, check: int, value) -> None:
    """Set one check's value (and the record's, for the primary check, as a record has it)."""
    rec["checks"][check]["value"] = value
    if check == 0:
        rec["value"] = value


@pytest.mark.parametrize("factor, fails", [(2.0, True), (-2.0, True), (0.5, False), (-0.9, False)])
def test_drift_fails_only_beyond_the_checks_tolerance(tmp_path, factor, fails):
    current = payload()
    rec = record_of(current)
    primary = rec["checks"][0]
    move(rec, 0, primary["value"] + factor * primary["tolerance"])
    result = compare(PAYLOAD, current)
    assert row_of(result).status == ("DRIFT" if fails else "ok")
    assert fgcore_main(["compare", str(SAMPLE), write(tmp_path, "cur.json", current)]) == (1 if fails else 0)


@pytest.mark.parametrize("moved_by, fails", [(0.15, False), (0.3, True)])
def test_every_check_drifts_against_its_own_tolerance_not_only_the_primary_value(tmp_path, capsys, moved_by, fails):
    """The second check of nc1-collapse has a tolerance of its own (0.2, its seed spread); before, only the
    primary value was compared, and a check could move anywhere unnoticed."""
    current = payload()
    rec = record_of(current)
    second = rec["checks"][1]
    before = second["value"]
    move(rec, 1, before + moved_by)
    row = row_of(compare(PAYLOAD, current))
    assert row.status == ("DRIFT" if fails else "ok")
    if fails:
        assert row.reason == (f"check 'NC1 end / NC1 at start of terminal phase': moved by +0.3 ({before:.4g} -> "
                              f"{before + 0.3:.4g}), beyond its tolerance 0.2")
        assert fgcore_main(["compare", str(SAMPLE), write(tmp_path, "cur.json", current)]) == 1
        assert "DRIFT    nc1-collapse [digits-coarse]: check 'NC1 end / NC1 at start" in capsys.readouterr().out


def test_a_check_of_the_baseline_that_is_no_longer_recorded_is_reported():
    current = payload()
    record_of(current)["checks"][1]["name"] = "NC1 renamed"
    row = row_of(compare(PAYLOAD, current))
    assert row.status == "CONTROL" and ("check 'NC1 end / NC1 at start of terminal phase': in the baseline, not "
                                        "recorded in the current run") in row.reason


def test_a_check_without_a_tolerance_falls_back_to_the_claims_and_says_so():
    base, current = payload(), payload()
    for p in (base, current):
        rec = record_of(p)
        del rec["tolerance"]
        rec["checks"][0]["tolerance"] = None
    catalog_tolerance = CLAIMS[KEY[0]].tolerance
    rec = record_of(current)
    move(rec, 0, rec["value"] + 1.5 * catalog_tolerance)
    row = row_of(compare(base, current))
    assert row.tolerance == catalog_tolerance and row.status == "DRIFT"
    assert "beyond the claim's tolerance (no measured spread for this check)" in row.reason


def test_a_baseline_with_the_primary_value_only_compares_that_value():
    old = baseline.from_payload(PAYLOAD)
    for record in old["claims"]:
        del record["checks"]
    current = payload()
    move(record_of(current), 1, 99.0)          # not looked at: the old baseline has no such value
    assert row_of(compare(old, current)).status == "ok"
    rec = record_of(current)
    move(rec, 0, rec["value"] + 2 * rec["tolerance"])
    assert row_of(compare(old, current)).reason.startswith("value moved by")


@given(factor=st.floats(-3, 3).filter(lambda f: abs(abs(f) - 1) > 1e-6))
@settings(max_examples=40, deadline=None)
def test_drift_rule_is_the_absolute_tolerance(factor):
    current = payload()
    rec = record_of(current)
    primary = record_of(PAYLOAD)["checks"][0]
    move(rec, 0, primary["value"] + factor * primary["tolerance"])
    assert compare(PAYLOAD, current).failed == (abs(factor) > 1)


def control_of(p: dict, check: int, key=KEY) -> dict:
    return record_of(p, key)["checks"][check]["controls"][0]


def test_a_check_that_starts_passing_on_a_control_fails_per_check_and_control(tmp_path, capsys):
    current = payload()
    control_of(current, 1).update(value=0.9, passed=True, status="passes (defect)")
    result = compare(PAYLOAD, current)
    row = row_of(result)
    assert result.failed and row.status == "CONTROL" and "passes (defect)" in row.reason
    (change,) = row.control_changes
    assert (change.check, change.control) == ("NC1 end / NC1 at start of terminal phase", NO_COLLAPSE)
    assert (change.baseline, change.current) == ("fails as expected", "passes (defect)")
    assert fgcore_main(["compare", str(SAMPLE), write(tmp_path, "cur.json", current)]) == 1
    out = capsys.readouterr().out
    assert ("CONTROL  nc1-collapse [digits-coarse]: check 'NC1 end / NC1 at start of terminal phase' on control "
            "digits-coarse-no-collapse: fails as expected -> passes (defect)") in out
    assert "1 control changed" in out and "-> REGRESSION" in out


def test_each_changed_control_is_its_own_line_and_an_error_counts_too():
    current = payload()
    control_of(current, 0).update(status="error", value="nan")
    control_of(current, 1).update(status="passes (defect)")
    row = row_of(compare(PAYLOAD, current))
    assert row.status == "CONTROL" and len(row.control_changes) == 2
    lines = [line for line in format_table(compare(PAYLOAD, current)).splitlines() if line.startswith("CONTROL ")]
    assert len(lines) == 2 and "fails as expected -> error" in lines[0]


def test_a_control_that_stops_being_measured_is_a_change():
    current = payload()
    record_of(current)["checks"][0]["controls"] = []
    row = row_of(compare(PAYLOAD, current))
    assert row.status == "CONTROL" and "fails as expected -> not recorded" in row.reason


def test_a_flip_to_nothing_measured_is_not_also_a_list_of_missing_controls():
    current = payload()
    rec = record_of(current)
    rec.update(verdict="error", checks=[], controls=[], value=None, message="the run could not be read")
    row = row_of(compare(PAYLOAD, current))
    assert row.status == "FLIPPED" and row.control_changes == ()


def test_statuses_are_compared_exactly_not_by_substring():
    current = payload()
    control_of(current, 0)["status"] = "fails as expected (but barely)"
    assert row_of(compare(PAYLOAD, current)).status == "CONTROL"


def test_records_with_one_control_object_compare_on_its_verdict():
    old = json.loads(SAMPLE_V1.read_text())
    assert not compare(old, old).failed
    current = copy.deepcopy(old)
    record_of(current)["control"]["verdict"] = "passes (defect)"
    row = row_of(compare(old, current))
    assert row.status == "CONTROL" and row.reason == "control: fails as expected -> passes (defect)"


def test_removed_claim_fails_and_new_claim_is_only_reported(tmp_path):
    removed = payload()
    removed["claims"] = [r for r in removed["claims"] if (r["id"], r["experiment"]) != KEY]
    result = compare(PAYLOAD, removed)
    assert result.failed and row_of(result).status == "REMOVED"

    added = payload()
    extra = copy.deepcopy(record_of(added))
    extra["experiment"] = "my-new-model"
    added["claims"].append(extra)
    result = compare(PAYLOAD, added)
    assert not result.failed and row_of(result, ("nc1-collapse", "my-new-model")).status == "new"
    assert "new" in format_table(result)


@pytest.mark.parametrize("now", ["skipped", "not run"])
def test_a_claim_the_baseline_measured_that_is_skipped_or_not_run_now_fails(tmp_path, capsys, now):
    """Coverage must not vanish silently: a claim that held and now skips (its data went away, or an error
    became a skip) fails compare, with the claim named and how to accept it on purpose."""
    current = payload()
    rec = record_of(current)
    rec.update(verdict=now, value=None, checks=[], message="data for experiment digits-coarse not found: ...")
    result = compare(PAYLOAD, current)
    row = row_of(result)
    assert result.failed and row.status == "MISSING"
    assert row.reason.startswith(f"holds in the baseline, {now} in the current run: data for experiment")
    assert fgcore_main(["compare", str(SAMPLE), write(tmp_path, "cur.json", current)]) == 1
    out = capsys.readouterr().out
    assert ("MISSING  nc1-collapse [digits-coarse]: holds in the baseline" in out
            and "--accept-missing nc1-collapse:digits-coarse" in out and "1 missing" in out)


def test_a_claim_skipped_in_the_baseline_too_is_reported_not_compared():
    skipped_in_base = ("densenet", "cifar10-densenet")
    assert record_of(PAYLOAD, skipped_in_base)["verdict"] == "skipped"
    assert row_of(compare(PAYLOAD, PAYLOAD), skipped_in_base).status == "skipped"
    now_runs = payload()   # and a claim skipped in the baseline that now runs
    record_of(now_runs, skipped_in_base).update(verdict="fails", value=3.0)
    assert row_of(compare(PAYLOAD, now_runs), skipped_in_base).status == "skipped"
    gone = payload()       # nor is a claim the baseline skipped that is no longer there
    gone["claims"] = [r for r in gone["claims"] if (r["id"], r["experiment"]) != skipped_in_base]
    assert not compare(PAYLOAD, gone).failed


def test_a_lost_claim_can_be_accepted_on_purpose_by_name(tmp_path, capsys):
    current = payload()
    record_of(current).update(verdict="skipped", value=None, message="no data")
    current["claims"] = [r for r in current["claims"] if (r["id"], r["experiment"]) != ("nc2-etf", "digits-coarse")]
    assert {r.status for r in compare(PAYLOAD, current).rows} >= {"MISSING", "REMOVED"}
    result = compare(PAYLOAD, current, accept_missing=["nc1-collapse:digits-coarse,nc2-etf"])
    assert not result.failed and row_of(result).status == "accepted"
    assert row_of(result, ("nc2-etf", "digits-coarse")).reason.startswith("removed, accepted with --accept-missing")
    cur = write(tmp_path, "cur.json", current)
    assert fgcore_main(["compare", str(SAMPLE), cur, "--accept-missing", "nc1-collapse"]) == 1   # nc2-etf still lost
    assert fgcore_main(["compare", str(SAMPLE), cur, "--accept-missing", "nc1-collapse",
                        "--accept-missing", "nc2-etf:digits-coarse"]) == 0
    assert "2 accepted" in capsys.readouterr().out
    # a name that matches nothing lost is a mistake, not an accepted loss
    assert fgcore_main(["compare", str(SAMPLE), cur, "--accept-missing", "nc1-colapse"]) == 2
    assert "--accept-missing nc1-colapse: no claim of that name is missing" in capsys.readouterr().err


def test_non_finite_values():
    base, current = payload(), payload()
    move(record_of(base), 0, "nan")
    move(record_of(current), 0, "nan")
    assert row_of(compare(base, current)).status == "ok"
    move(record_of(current), 0, 0.02)
    assert row_of(compare(base, current)).status == "DRIFT"


def test_two_records_with_one_key_are_an_error():
    current = payload()
    current["claims"].append(copy.deepcopy(record_of(current)))
    with pytest.raises(ValueError, match="two records for claim 'nc1-collapse'"):
        compare(PAYLOAD, current)


def test_baseline_is_compact_one_record_per_line_and_compares_like_the_payload(tmp_path):
    path = baseline.write(tmp_path / "fast.json", PAYLOAD)
    text = path.read_text()
    data = json.loads(text)
    assert data["format"] == baseline.FORMAT
    assert len(data["claims"]) == len(PAYLOAD["claims"])
    assert all(tuple(r) == baseline.FIELDS for r in data["claims"])
    stored = next(r for r in data["claims"] if (r["id"], r["experiment"]) == KEY)
    assert stored["controls"] == {"NC1 last / NC1 untrained": {NO_COLLAPSE: "fails as expected"},
                                  "NC1 end / NC1 at start of terminal phase": {NO_COLLAPSE: "fails as expected"}}
    record_lines = [line for line in text.splitlines() if line.lstrip().startswith('{"id"')]
    assert len(record_lines) == len(PAYLOAD["claims"])
    assert not compare(path, PAYLOAD).failed
    assert baseline.dumps(baseline.from_payload(path)) == text   # compacting a baseline changes nothing
    current = payload()
    record_of(current)["verdict"] = "fails"
    assert compare(path, current).failed
    current = payload()
    control_of(current, 0)["status"] = "passes (defect)"
    assert row_of(compare(path, current)).status == "CONTROL"


def test_a_baseline_written_before_controls_were_per_check_still_compares(tmp_path):
    # the shape of reports/baseline/*.json before: no "controls" field, the controls' verdict only
    old = baseline.from_payload(PAYLOAD)
    for record in old["claims"]:
        del record["controls"]
    path = tmp_path / "fast.json"
    path.write_text(json.dumps(old))
    assert not compare(path, PAYLOAD).failed
    current = payload()
    control_of(current, 0)["status"] = "passes (defect)"
    record_of(current)["control"]["verdict"] = "passes (defect)"
    row = row_of(compare(path, current))
    assert row.status == "CONTROL" and row.reason == "control: fails as expected -> passes (defect)"
    # --update writes the per-check statuses from then on
    baseline.write(path, current)
    assert json.loads(path.read_text())["claims"][0]["controls"] is not None


def test_update_rewrites_the_baseline_on_purpose(tmp_path, capsys):
    base_path = tmp_path / "baseline" / "fast.json"
    current = payload()
    record_of(current)["verdict"] = "fails"
    cur_path = write(tmp_path, "cur.json", current)
    # no baseline yet: compare says how to make one; --update makes it
    assert fgcore_main(["compare", str(base_path), cur_path]) == 2
    assert "--update" in capsys.readouterr().err
    assert fgcore_main(["compare", str(base_path), str(SAMPLE), "--update"]) == 0
    assert fgcore_main(["compare", str(base_path), cur_path]) == 1
    assert fgcore_main(["compare", str(base_path), cur_path, "--update"]) == 0   # accepted on purpose
    assert fgcore_main(["compare", str(base_path), cur_path]) == 0
    stored = json.loads(base_path.read_text())
    assert next(r for r in stored["claims"] if (r["id"], r["experiment"]) == KEY)["verdict"] == "fails"
    assert sorted(p.name for p in base_path.parent.iterdir()) == ["fast.json"]   # no temporary file left


def test_tier_selection_compares_one_tier_of_a_full_run(tmp_path):
    base_path = tmp_path / "fast.json"
    assert fgcore_main(["compare", str(base_path), str(SAMPLE), "--tier", "fast", "--update"]) == 0
    stored = json.loads(base_path.read_text())["claims"]
    assert stored and {r["tier"] for r in stored} == {"fast"}
    # the full run against the fast baseline: its slow and gpu records are not "new", they are not looked at
    result = compare(base_path, PAYLOAD, tiers=["fast"])
    assert not result.failed and {r.status for r in result.rows} == {"ok"}
    # without the selection, a slow-only run would miss every fast claim
    slow_only = payload()
    slow_only["claims"] = [r for r in slow_only["claims"] if r["tier"] == "slow"]
    assert compare(base_path, slow_only).count("REMOVED") == len(stored)
