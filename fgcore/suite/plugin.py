"""The fgcore pytest plugin: every hook of the claims suite, and nothing else. The state lives in a
ClaimsSession on the config (fgcore.suite.session); the hooks call into it.

A claim test is a function marked `@pytest.mark.claim(ID, applies_to=TAG)` that declares its checks
and calls `claim.verify(...)` (the example is in fgcore.suite.checks). `applies_to` parametrises the
test over every experiment (fixtures/*.toml) whose `tags` hold that tag; each parameter carries its
experiment's tier as a marker (fast / slow / gpu), so one new TOML file puts a new model or data set
through every claim that applies. `claim.verify` measures the checks on the experiment and on the
controls its fixture names for each check; after the test body the plugin asks the record for its verdict (ClaimRecord.conclude) and keeps it for the report.
Registered through the `pytest11` entry point (and by the checkout's conftest.py as a fallback).
"""

from __future__ import annotations

from typing import Any

import pytest

from . import html_columns, progress
from .options import add_options
from .session import SESSION_KEY, ClaimsSession

_CLAIM_ATTRIBUTE = "_fg_claim"   # the Claim of a running test, on its item


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "claim(id, applies_to=None): a claim of the paper (fgcore.suite.catalog); "
                                       "applies_to parametrises it over experiments with that tag")
    config.addinivalue_line("markers", "xdist_group(name): keep tests sharing runs on one xdist worker")
    session = config.stash[SESSION_KEY] = ClaimsSession(config)
    config.pluginmanager.register(_ControllerHooks(session), "fgcore-claims-controller")
    if hasattr(config, "workerinput"):  # an xdist worker: its runs' progress goes to the controller
        progress.use_controller_folder(config)
    elif session.options.progress > 0:
        session.progress = progress.SessionProgress(config, session.options, session.fixtures)


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(SESSION_KEY, None)
    if session is not None and session.progress is not None:
        session.progress.close()


# -- collection ------------------------------------------------------------------------------------------
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    ClaimsSession.of(metafunc.config).parametrize(metafunc)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ClaimsSession.of(config).select(items)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    claims = ClaimsSession.of(session.config)
    if hasattr(session.config, "workerinput"):  # before xdist reports the worker's collection
        progress.write_worker_plan(session, claims.options, claims.fixtures)
    elif claims.progress is not None:
        claims.progress.collection_finished(session.items)


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session):
    ClaimsSession.of(session.config).train_shared(session)
    return (yield)


def pytest_sessionstart(session: pytest.Session) -> None:
    claims = session.config.stash.get(SESSION_KEY, None)
    if claims is not None and claims.progress is not None:
        claims.progress.start()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    claims = ClaimsSession.of(node.config)
    if claims.progress is not None:
        claims.progress.configure_node(node)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    claims = ClaimsSession.of(node.config)
    if claims.progress is not None:
        claims.progress.node_collection_finished()


# -- the claim fixture and each claim test ------------------------------------------------------------------
@pytest.fixture
def experiment() -> str | None:
    """The experiment a claim test runs on: parametrised from @pytest.mark.claim(..., applies_to=TAG)."""
    return None


@pytest.fixture
def claim(request: pytest.FixtureRequest, experiment: str | None) -> Any:
    record = ClaimsSession.of(request.config).new_claim(request.node, experiment)
    setattr(request.node, _CLAIM_ATTRIBUTE, record)
    return record


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function):
    result = yield
    record = getattr(pyfuncitem, _CLAIM_ATTRIBUTE, None)
    if record is not None:
        record.conclude()  # raises when the claim fails, a check holds on a control, or the suite errs
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if item.get_closest_marker("claim") is None:
        return report
    if report.when == "call" or (report.when == "setup" and not report.passed):
        ClaimsSession.of(item.config).attach_record(item, call, report, getattr(item, _CLAIM_ATTRIBUTE, None))
    return report


class _ControllerHooks:
    """The hooks whose arguments carry no config (so no session to find): bound to the session."""

    def __init__(self, claims: ClaimsSession):
        self.claims = claims

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Runs on the controller (also under xdist, where worker reports arrive serialised)."""
        self.claims.collect(report)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    ClaimsSession.of(session.config).finish()


# -- pytest-html's results table (optional hooks: harmless without pytest-html) -------------------------
@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_header(cells: list[str]) -> None:
    html_columns.add_header(cells)


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_row(report: Any, cells: list[str]) -> None:
    html_columns.add_row(report, cells)
