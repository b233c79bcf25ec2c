"""`make gpu-check` on a machine without a GPU: the dry run (the CUDA branch's code on the CPU, on a
tiny subset) passes, prints its table, and fails with exit code 1 when a result is wrong or a check
could not run; it refuses (exit 2) what would measure nothing."""

from __future__ import annotations

import json

import pytest
import torch

from fgcore import machine
from fgcore.train import device_data, gpu_check, loop
from fgcore.train.gpu_check import checks

CHECKS = ("history values finite", "features and D finite", "streamed NC1", "streamed NC2", "streamed D",
          "saved features vs float64 CPU forward", "training accuracy after 3 epochs",
          "one float32 SGD step")


def test_the_dry_run_passes_and_prints_one_table(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FGCORE_CACHE", str(tmp_path / "cache"))
    assert gpu_check.main(["--dry-run", "--json", str(tmp_path / "check.json")]) == 0
    out = capsys.readouterr().out
    for row in CHECKS + ("resnet18 eager steps", "resnet18 CUDA-graph steps", "resnet18: eager / graph",
                         "resnet18 baseline", "densenet121", "vgg19", "1 training process(es) at once",
                         "2 training process(es) at once", "runs per GPU for fgcore sweep", "dry run",
                         "all checks hold"):
        assert row in out, row
    rows = json.loads((tmp_path / "check.json").read_text())["rows"]
    checked = [r for r in rows if r["status"] != "info"]
    assert len(checked) == len(CHECKS) and all(r["status"] == "ok" for r in checked)
    assert [r["name"] for r in checked if r["name"].startswith(CHECKS)] == [r["name"] for r in checked]
    execution = next(r["value"] for r in rows if r["name"] == "execution")
    assert "channels_last=True" in execution and "fused_sgd=True" in execution  # the CUDA branch's code
    assert "cuda_graph=True" in execution                                     # and its static-buffer steps
    assert next(r["value"] for r in rows if r["name"] == "run").endswith("bf16")
    assert not (tmp_path / "cache" / "gpu-check").exists()   # a dry run records no workers per GPU


def test_saved_features_in_the_wrong_row_order_fail_the_check(tmp_path, capsys, monkeypatch):
    """A bug that stores the evaluation features of each batch in reverse order: the streamed
    statistics still agree with themselves, the float64 forward of the checkpoint does not."""
    monkeypatch.setenv("FGCORE_CACHE", str(tmp_path / "cache"))
    original = device_data.DeviceSplit.inputs
    monkeypatch.setattr(device_data.DeviceSplit, "inputs", lambda self, rows: original(self, rows).flip(0))
    assert gpu_check.main(["--dry-run", "--checks-only"]) == 1
    out = capsys.readouterr().out
    failed = [line for line in out.splitlines() if line.rstrip().endswith("FAIL")]
    assert any("saved features vs float64 CPU forward" in line for line in failed)
    assert "check(s) FAILED" in out


def test_a_run_that_learns_nothing_fails_the_accuracy_floor(tmp_path, capsys, monkeypatch):
    """A learning rate of 0 (as a graph that baked in the wrong rate would train): every number is
    finite and self-consistent, and the accuracy stays at chance."""
    monkeypatch.setenv("FGCORE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(loop, "_lr_factor", lambda schedule, epoch, epochs: 0.0)
    assert gpu_check.main(["--dry-run", "--checks-only"]) == 1
    failed = [line for line in capsys.readouterr().out.splitlines() if line.rstrip().endswith("FAIL")]
    assert len(failed) == 1 and "training accuracy after 3 epochs" in failed[0]


def test_a_wrong_float32_step_fails_and_a_check_that_cannot_run_fails_too(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FGCORE_CACHE", str(tmp_path / "cache"))
    original = checks.float32_step

    def wrong_layout(spec, device, *, channels_last, fused):
        update, loss = original(spec, device, channels_last=channels_last, fused=fused)
        return (update[::-1].copy() if channels_last else update), loss

    monkeypatch.setattr(checks, "float32_step", wrong_layout)
    monkeypatch.setattr(checks, "check_streamed_statistics",
                        lambda run, report: (_ for _ in ()).throw(RuntimeError("CUDA error: an illegal memory access")))
    assert gpu_check.main(["--dry-run", "--checks-only"]) == 1
    out = capsys.readouterr().out
    failed = [line for line in out.splitlines() if line.rstrip().endswith("FAIL")]
    assert len(failed) == 2
    assert "could not run: RuntimeError: CUDA error" in failed[0] and "one float32 SGD step" in failed[1]


def test_asking_for_cuda_without_a_gpu_is_a_usage_error(capsys, monkeypatch):
    monkeypatch.setattr(gpu_check, "run_check", lambda args: pytest.fail("ran without a GPU"))
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert gpu_check.main(["--device", "cuda"]) == 2
    assert "torch.cuda.is_available() is False" in capsys.readouterr().err


def test_gpus_that_torch_cannot_use_are_an_error_not_a_dry_run(capsys, monkeypatch):
    monkeypatch.setattr(gpu_check, "run_check", lambda args: pytest.fail("ran a dry run on a GPU machine"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(machine, "visible_gpus", lambda environ=None: ["0"])
    assert gpu_check.main([]) == 2
    assert "cannot use them" in capsys.readouterr().err
    monkeypatch.setattr(gpu_check, "run_check", lambda args: gpu_check.Report())
    assert gpu_check.main(["--dry-run"]) == 0          # asked for: the CPU dry run


def test_no_speed_on_synthetic_images_unless_asked(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("FGCORE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("FGCORE_CIFAR10", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(gpu_check, "run_check", lambda args: gpu_check.Report())
    assert gpu_check.main([]) == 2
    err = capsys.readouterr().err
    assert "no CIFAR-10 found" in err and "--synthetic" in err and "FGCORE_CIFAR10" in err
    assert gpu_check.main(["--synthetic"]) == 0
