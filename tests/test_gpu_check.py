"""`make gpu-check` on a machine without a GPU: the dry run (the CUDA branch's code on the CPU, on a
tiny subset) passes, prints its table, and fails with exit code 1 when a result is wrong."""

from __future__ import annotations

import json

import pytest

from fgcore.train import device_data, gpu_check


def test_the_dry_run_passes_and_prints_one_table(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FGCORE_CACHE", str(tmp_path / "cache"))
    assert gpu_check.main(["--dry-run", "--json", str(tmp_path / "check.json")]) == 0
    out = capsys.readouterr().out
    for row in ("history values finite", "features and D finite", "streamed NC1", "streamed NC2", "streamed D",
                "saved features vs float64 CPU forward", "resnet18 baseline", "resnet18 fast path",
                "densenet121 fast path", "vgg19 fast path", "dry run", "all checks hold"):
        assert row in out, row
    rows = json.loads((tmp_path / "check.json").read_text())["rows"]
    checks = [r for r in rows if r["status"] != "info"]
    assert len(checks) == 6 and all(r["status"] == "ok" for r in checks)
    execution = next(r["value"] for r in rows if r["name"] == "execution")
    assert "channels_last=True" in execution and "fused_sgd=True" in execution  # the CUDA branch's code
    assert next(r["value"] for r in rows if r["name"] == "run").endswith("bf16")


def test_saved_features_in_the_wrong_row_order_fail_the_check(tmp_path, capsys, monkeypatch):
    """A bug that stores the evaluation features of each batch in reverse order: the streamed
    statistics still agree with themselves, the float64 forward of the checkpoint does not."""
    monkeypatch.setenv("FGCORE_CACHE", str(tmp_path / "cache"))
    original = device_data.DeviceSplit.inputs
    monkeypatch.setattr(device_data.DeviceSplit, "inputs", lambda self, rows: original(self, rows).flip(0))
    assert gpu_check.main(["--dry-run", "--checks-only"]) == 1
    out = capsys.readouterr().out
    failed = [line for line in out.splitlines() if line.rstrip().endswith("FAIL")]
    assert len(failed) == 1 and "saved features vs float64 CPU forward" in failed[0]
    assert "1 check(s) FAILED" in out


def test_asking_for_cuda_without_a_gpu_is_a_usage_error(capsys, monkeypatch):
    monkeypatch.setattr(gpu_check, "run_check", lambda args: pytest.fail("ran without a GPU"))
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert gpu_check.main(["--device", "cuda"]) == 2
    assert "torch.cuda.is_available() is False" in capsys.readouterr().err
