"""Every check that the committed baselines hold has a tolerance of its own in the catalog, measured from
its seed spread (fgcore.suite.catalog.CHECK_TOLERANCES), and every tolerance there names a check that
exists: a renamed check must take its tolerance along."""

import json
from pathlib import Path

import pytest

from fgcore.suite.catalog import CHECK_TOLERANCES, CLAIMS

BASELINES = Path(__file__).resolve().parents[1] / "reports" / "baseline"


def baseline_checks(tier: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for record in json.loads((BASELINES / f"{tier}.json").read_text())["claims"]:
        out.setdefault(record["id"], set()).update(record.get("checks") or {})
    return out


@pytest.mark.parametrize("tier", ["fast", "slow"])
def test_every_check_of_a_baseline_has_its_own_tolerance(tier):
    checks = baseline_checks(tier)
    assert any(checks.values()), f"reports/baseline/{tier}.json holds no record with its checks"
    missing = sorted(f"{claim_id}: {name!r}" for claim_id, names in checks.items() for name in names
                     if CLAIMS[claim_id].check_tolerance(name) is None)
    assert not missing, ("checks without a tolerance (measure their seed spread: --fg-seeds 5, and add them to "
                         "fgcore/suite/catalog.py CHECK_TOLERANCES): " + "; ".join(missing))


def test_every_tolerance_names_a_check_of_a_baseline():
    known: dict[str, set[str]] = {}
    for tier in ("fast", "slow"):
        for claim_id, names in baseline_checks(tier).items():
            known.setdefault(claim_id, set()).update(names)
    orphans = sorted(f"{claim_id}: {name!r}" for claim_id, table in CHECK_TOLERANCES.items() for name in table
                     if name not in known.get(claim_id, set()))
    assert not orphans, "tolerances of checks no baseline holds (renamed or removed?): " + "; ".join(orphans)


def test_tolerances_are_positive_numbers():
    assert all(value > 0 for table in CHECK_TOLERANCES.values() for value in table.values())
    assert set(CHECK_TOLERANCES) <= set(CLAIMS)
