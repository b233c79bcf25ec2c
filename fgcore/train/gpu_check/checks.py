"""The checks of `make gpu-check`: is what the GPU path computed right?

- every number of the history and every stored feature and distance matrix is finite;
- the statistics streamed during training (NC1, NC2, D on the training and the original labels)
  equal the float64 metrics (fgcore.metrics) computed again from the saved features;
- the saved features equal a float64 forward pass on the CPU of the final checkpoint (the GPU's
  layout, autocast and feature saving against the plainest possible computation);
- the short run learned: its training accuracy is well above chance (a step that replays stale
  inputs, or a learning rate baked in at 0, trains nothing and passes every check above);
- one float32 SGD step (TF32 off) on the training device equals the same step on the CPU.
"""

from __future__ import annotations

import math

import numpy as np

from .table import FAIL, OK, Report

# Streamed statistics against fgcore.metrics on the saved features: float64 on both sides, only the
# order of the sums differs (measured 1e-16 to 3e-16 in the dry run, 2e-14 for NC1 on the H200);
# 1e-6 leaves room for an ill-conditioned Sigma_B and another order of summation on the GPU.
STREAMED_RTOL = 1e-6
# Saved features against a float64 CPU forward of the checkpoint, relative Frobenius error. bf16
# keeps 8 significant bits (rounding 2^-9 = 0.2% per operation); measured in bf16 autocast on the
# CPU: ResNet-18 0.23% and the small CNN 0.25% (8 images, after 10 SGD steps), the small CNN of the
# dry run 0.33%, ResNet-18 on the H200 0.38%. 3% is ten times that, while a layout, autocast or
# row-order bug gives O(1). float32: measured 2.4e-7 (ResNet-18) and 1.4e-7 (small CNN); 1e-4.
FEATURE_RTOL = {"bf16": 0.03, "float32": 1e-4}
FLOAT64_ROWS = {"gpu": 512, "dry": 32}  # test images of the float64 CPU forward
# Training accuracy after the check's short run, as a multiple of chance (1 / number of training
# labels; 0.2 on coarse CIFAR-10). ResNet-18 reached 0.47 after 4 epochs on the H200 (2.35x chance);
# a run that learns nothing stays at chance. 1.5x chance is far from both.
ACCURACY_OVER_CHANCE = 1.5
# One float32 SGD step on the device against the same step on the CPU: the relative difference of
# the parameter updates. Both sides compute in float32 (TF32 off); only the kernels and the order of
# their sums differ. Measured on the H200 (ResNet-18, 32 images, cuDNN's autotuned algorithms, which
# may be Winograd or FFT convolutions): 1.7e-3; the dry run's small CNN on the CPU: 3e-6. The check
# now runs cuDNN's deterministic algorithms (closer to the CPU's), and 1e-2 stays above the autotuned
# figure while a wrong step (a wrong layout, an unsynchronised copy, a stale input) gives O(1).
STEP_RTOL = 1e-2
STEP_ROWS = 32


def relative(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def check_finite(run, report: Report) -> None:
    """Every number of the history, every feature snapshot and every distance matrix is finite."""
    bad = [f"epoch {r['epoch']} {k}" for r in run.history for k, v in r.items()
           if isinstance(v, (int, float)) and not math.isfinite(v)]
    report.add("result", "history values finite", "all" if not bad else f"{len(bad)} not: {', '.join(bad[:3])}",
               "all", OK if not bad else FAIL)
    bad = [f"features {e} {s}" for e in run.snapshot_epochs for s in ("train", "test")
           if not np.isfinite(run.features(e, s)).all()]
    bad += [f"D {e} {k}" for e in run.stats_epochs for k in ("train", "original")
            if not np.isfinite(run.distance_matrix(e, k)).all()]
    report.add("result", "features and D finite", "all" if not bad else f"{len(bad)} not: {', '.join(bad[:3])}",
               "all", OK if not bad else FAIL)


def check_streamed_statistics(run, report: Report) -> None:
    """NC1, NC2 and D streamed during training against fgcore.metrics on the saved features."""
    from ... import metrics

    y_train, y_original = run.labels("train", "train"), run.labels("train", "original")
    worst = {"NC1": 0.0, "NC2": 0.0, "D": 0.0}
    for epoch in run.snapshot_epochs:
        H = run.features(epoch, "train").astype(np.float64)
        record = run.record(epoch)
        worst["NC1"] = max(worst["NC1"], abs(record["nc1"] - metrics.nc1(H, y_train)) / max(abs(record["nc1"]), 1e-300))
        worst["NC2"] = max(worst["NC2"], abs(record["nc2"] - metrics.nc2(H, y_train)) / max(abs(record["nc2"]), 1e-300))
        worst["D"] = max(worst["D"],
                         relative(run.distance_matrix(epoch, "train"), metrics.class_distance_matrix(H, y_train)),
                         relative(run.distance_matrix(epoch, "original"), metrics.class_distance_matrix(H, y_original)))
    for name, value in worst.items():
        report.check("result", f"streamed {name} vs float64 on saved features (rel.)", value, STREAMED_RTOL)


def _load_split(spec, split: str):
    from ... import data as fgdata

    subset = spec.subset if split == "train" else spec.test_subset
    return fgdata.load(spec.dataset, split, subset=subset, seed=spec.seed, **spec.data_args)


def _build_model(spec, n_train_classes: int, in_shape):
    from ... import losses as fglosses
    from ... import models as fgmodels

    outputs = fglosses.num_outputs(spec.loss, n_train_classes)
    return fgmodels.build(spec.model, outputs, tuple(in_shape), **spec.model_args)


def float64_features(run, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(saved test features of the last epoch, the same from a float64 CPU forward of the final
    checkpoint) for the first `rows` test images."""
    import torch

    from ..device_data import channel_stats

    spec = run.spec
    train, test = _load_split(spec, "train"), _load_split(spec, "test")
    mean, std = channel_stats(train.x)
    x = test.x[:rows].astype(np.float64) / (255.0 if test.x.dtype == np.uint8 else 1.0)
    x = (x - mean.astype(np.float64).reshape(1, -1, 1, 1)) / std.astype(np.float64).reshape(1, -1, 1, 1)
    state = torch.load(run.entry.file("checkpoint.pt"), map_location="cpu", weights_only=True)
    model = _build_model(spec, run.n_train_classes, train.x.shape[1:])
    model.load_state_dict(state["model"])
    model = model.double().eval()
    with torch.no_grad():
        reference = model.features(torch.from_numpy(x)).numpy()
    return run.features("last", "test")[:rows], reference


def check_against_float64(run, report: Report, rows: int) -> None:
    saved, reference = float64_features(run, rows)
    report.check("result", f"saved features vs float64 CPU forward ({len(saved)} test images, rel.)",
                 relative(saved, reference), FEATURE_RTOL[run.spec.precision])


def check_learned(run, report: Report) -> None:
    """The short run's training accuracy against ACCURACY_OVER_CHANCE x chance."""
    chance = 1.0 / run.n_train_classes
    report.check("result", f"training accuracy after {run.spec.epochs} epochs (chance {chance:.2f})",
                 run.final_train_accuracy(), ACCURACY_OVER_CHANCE * chance, op=">=", fmt=".3f")


def float32_step(spec, device, *, channels_last: bool, fused: bool) -> tuple[np.ndarray, float]:
    """One float32 SGD step of `spec`'s model on its first STEP_ROWS training images (no augmentation)
    on `device`: (the flattened parameter update, the loss). TF32 is off for it on CUDA, and cuDNN
    runs its deterministic algorithms."""
    import torch

    from ... import labels as fglabels
    from ..device_data import channel_stats, prepare_split

    device = torch.device(device)
    train = _load_split(spec, "train")
    y = fglabels.relabel(spec.labeling, train.y, n_classes=len(train.class_names), seed=spec.seed, split="train",
                         superclass=train.superclass)
    n_train_classes = fglabels.n_training_labels(spec.labeling, n_classes=len(train.class_names),
                                                 superclass_map=train.superclass_map)
    mean, std = channel_stats(train.x)
    split = prepare_split(train.x[:STEP_ROWS], y[:STEP_ROWS], train.y[:STEP_ROWS], device=device, mean=mean,
                          std=std, channels_last=channels_last)
    torch.manual_seed(spec.seed)
    model = _build_model(spec, n_train_classes, train.x.shape[1:]).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    before = torch.cat([p.detach().flatten().double().cpu() for p in model.parameters()])
    optimizer = torch.optim.SGD(model.parameters(), lr=spec.lr, momentum=spec.momentum,
                                weight_decay=spec.weight_decay, **({"fused": True} if fused else {}))
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
             torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = False, True
    try:
        model.train()
        loss = torch.nn.functional.cross_entropy(model(split.inputs(slice(0, STEP_ROWS))).float(), split.y_train)
        loss.backward()
        optimizer.step()
    finally:
        (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
         torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic) = saved
    after = torch.cat([p.detach().flatten().double().cpu() for p in model.parameters()])
    return (after - before).numpy(), loss.item()


def check_float32_step(spec, device, report: Report, *, dry: bool) -> None:
    """The device's float32 step (its layout and fused SGD) against the plain CPU step."""
    fast = device.type == "cuda" or dry   # in a dry run: the CUDA branch's layout and optimiser, on the CPU
    update, loss = float32_step(spec, device, channels_last=fast, fused=fast)
    reference, reference_loss = float32_step(spec, "cpu", channels_last=False, fused=False)
    where = "CUDA (TF32 off)" if device.type == "cuda" else "the CUDA branch's code on the CPU"
    report.check("result", f"one float32 SGD step on {where} vs the CPU ({spec.model}, {STEP_ROWS} images: "
                           f"update, rel.)", relative(update, reference), STEP_RTOL)
    report.numbers["result: float32 step loss difference"] = abs(loss - reference_loss)
