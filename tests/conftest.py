"""Fixtures shared by the tests of fgcore itself."""

import pytest

CLAIM_PROBE = '''
import pytest

@pytest.mark.claim("nc1-collapse", applies_to="{tag}")
def test_claim(claim, experiment):
    run = claim.runs()[0][1]
    claim.check("final train accuracy", run.record("last")["train_acc"], ">=", 0.0, why="any finished run")
    claim.control("final train accuracy", -1.0, ">=", 0.0, description="a value that cannot pass")
'''


@pytest.fixture
def claim_probe():
    """claim_probe(tag) -> the source of a claims test module with one claim over the experiments
    tagged `tag`: it reads (or, with --fg-train missing, trains) each one's run and holds for any
    finished run, so a session's outcome says whether the runs were there."""
    return lambda tag: CLAIM_PROBE.format(tag=tag)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Small forward passes on one thread (pytestmark = pytest.mark.usefixtures("one_torch_thread")):
    with two OpenMP threads on a busy 2-core machine (CI runs other suites alongside), the spin-waiting
    threads made a DenseNet forward pass of 2 images 50-100x slower (0.1 s -> 5-14 s, measured); one
    thread is never much slower here."""
    from fgcore.machine import torch_threads

    with torch_threads(1):
        yield
