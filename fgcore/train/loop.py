"""The one training loop, for the CPU and the GPU alike (fgcore.train.train calls it on a cache miss).

Every epoch: one pass of SGD over a fresh seeded permutation (augmentation on the device), then an
evaluation of the test split (loss / accuracy on the training labels, accuracy on the original labels
where the head can give it), and at statistics epochs one eval-mode pass over the training split that
streams its features into the class-statistics accumulators (D and the Neural-Collapse family of
fgcore.metrics.METRICS: NC1, NC2, CDNV, equinorm, equiangularity; NC3 from them and the head's
weight); at snapshot epochs the train and test features are saved. Epoch 0 is the untrained network.

NC4 (the classifier's decision against the nearest class centre) needs the class means of this very
pass before it can judge a sample, and the pass knows them only at its end. The pass therefore keeps
its features and logits where they are computed (float32, on the training device: n x (d + C) x 4
bytes while the pass runs, about 100 MB for CIFAR-10 with ResNet-18) and streams them through
`NCCAgreement` once the means are known: the definition exactly, at every statistics epoch, for one
O(n d C) float64 sweep over memory instead of a second forward pass over the training set.

What a run computes is fixed by its RunSpec: the data stream comes from a CPU generator seeded with
spec.seed (fgcore.train.device_data.draw_epoch) and spec.precision chooses float32 or bf16 autocast,
on every device. How fast it runs is `Execution`: on CUDA the data set is prepared once on the GPU in
the run's dtype and channels-last layout (one gather per batch), cuDNN autotunes its convolutions
and SGD is fused; torch.compile is opt-in (FGCORE_COMPILE). None of these enter the cache key.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import platform
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from .. import data as fgdata
from .. import settings
from .. import labels as fglabels
from .. import losses as fglosses
from .. import metrics as fgmetrics
from .. import models as fgmodels
from ..errors import SpecError
from ..fileio import atomic_write_bytes, atomic_write_json
from .cache import Entry, save_tensors, torch_save_atomic
from .device_data import PAD, DeviceSplit, channel_stats, draw_epoch, prepare_split
from .graphed_steps import GraphedSteps
from .resolve import resolve
from .spec import RunSpec

EVAL_BATCH = {"cpu": 1024, "cuda": 2048}


def default_device(spec: RunSpec | None = None) -> torch.device:
    """$FGCORE_DEVICE if set; else CUDA, when available, for bf16 runs (the gpu fixtures) and when no
    spec is given; else the CPU.

    float32 runs (the fast and slow tiers, whose thresholds and baselines were measured on CPUs)
    stay on the CPU of a GPU machine unless asked otherwise (FGCORE_DEVICE, --fg-device, device=).
    """
    name = settings.device()
    if name:
        return torch.device(name)
    wants_gpu = spec is None or spec.precision != "float32"
    return torch.device("cuda" if wants_gpu and torch.cuda.is_available() else "cpu")


@dataclass(frozen=True)
class Execution:
    """How a run executes on its device: speed only, never what it computes (not in the cache key).

    None means "the default for the device": channels_last for image inputs, cuDNN autotuning,
    fused SGD and the full batches of an epoch replayed from one CUDA graph on CUDA; float32 NCHW,
    foreach SGD, eager steps on the CPU (as the fast and slow baselines were measured).
    resident=False crops, scales and normalises every batch from the raw uint8 images (the loop
    before the data set was prepared once; `make gpu-check` times it as the baseline). compile: a
    torch.compile backend for the training forward pass, or None (a compiled run takes no graph).
    cuda_graph: fgcore.train.graphed_steps; True on the CPU runs the same static-buffer steps
    eagerly (what tests compare with the eager loop).
    """

    channels_last: bool | None = None
    cudnn_benchmark: bool | None = None
    fused_sgd: bool | None = None
    resident: bool = True
    compile: str | None = None
    cuda_graph: bool | None = None

    def resolve(self, device: torch.device) -> "Execution":
        cuda = device.type == "cuda"
        pick = lambda value: cuda if value is None else bool(value)
        compiled = self.compile or None
        # A graph bakes the learning rate in: only fused SGD takes it as a tensor the loop can refill.
        graph = pick(self.cuda_graph) and not compiled and (pick(self.fused_sgd) or not cuda)
        return Execution(channels_last=pick(self.channels_last), cudnn_benchmark=pick(self.cudnn_benchmark),
                         fused_sgd=pick(self.fused_sgd), resident=self.resident, compile=compiled,
                         cuda_graph=graph)


def train_into(spec: RunSpec, entry: Entry, *, device: str | torch.device | None, progress: bool,
               execution: Execution | None = None) -> None:
    """Train `spec` (resolved first, see fgcore.train.resolve) into its (locked, incomplete) cache entry,
    resuming from a checkpoint if any."""
    spec = resolve(spec)
    if device:
        chosen = torch.device(device)
    else:
        chosen = default_device(spec)
        if chosen.type == "cpu" and torch.cuda.is_available():
            print(f"fgcore: training {spec.short} on the CPU: float32 runs stay on the CPU unless "
                  f"FGCORE_DEVICE=cuda (or --fg-device / device=) asks for the GPU", file=sys.stderr)
    if execution is None:
        execution = Execution(compile=settings.compile_backend())
    _Trainer(spec, entry, chosen, progress, execution).run()


def timing_trainer(spec: RunSpec, *, device: str | torch.device | None = None,
                   execution: Execution | None = None) -> "_Trainer":
    """A trainer of `spec` (resolved) outside any cache entry, its data on the device and its model
    built: for timing training steps (`train_steps`), nothing written."""
    spec = resolve(spec)
    trainer = _Trainer(spec, None, torch.device(device) if device else default_device(spec), False,
                       execution or Execution())
    trainer._load_data()
    trainer._build()
    return trainer


def time_epochs(spec: RunSpec, *, device: str | torch.device | None = None, epochs: int = 2,
                steps: int | None = None, execution: Execution | None = None) -> list[float]:
    """Wall seconds of each of `epochs` training epochs of `spec`, each cut after `steps` steps when
    given (SGD steps only: no evaluation, nothing written). The first includes cuDNN autotuning,
    the CUDA graph's capture and compilation: a warm-up."""
    trainer = timing_trainer(spec, device=device, execution=execution)
    seconds = []
    for epoch in range(1, epochs + 1):
        trainer.synchronize()
        started = time.perf_counter()
        trainer.train_steps(epoch, steps)  # ends with .item(): the device has finished
        seconds.append(time.perf_counter() - started)
    return seconds


def _lr_factor(schedule: str, epoch: int, epochs: int) -> float:
    """Multiplier of the initial lr during (1-based) `epoch`."""
    if schedule == "constant":
        return 1.0
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * (epoch - 1) / epochs))
    # "step": x0.1 at 1/3 and 2/3 of the run (a standard decay; the paper does not give its milestones)
    return 0.1 ** sum(epoch > m for m in (epochs // 3, (2 * epochs) // 3))


def _defined(metric: fgmetrics.Metric, stats, **classifier) -> float:
    """A metric of the collapse family (fgcore.metrics.METRICS), or NaN where this epoch's features leave
    it undefined (two class means that coincide, as when a network's features die; a zero head): the
    history says so and the run goes on, instead of a whole run lost to one measure that only the report
    reads. A required metric (NC1, NC2: the claims read them) raises."""
    try:
        return metric.on_statistics(stats, **classifier)
    except ValueError:
        if metric.required:
            raise
        return float("nan")


class _Trainer:
    def __init__(self, spec: RunSpec, entry: Entry | None, device: torch.device, progress: bool,
                 execution: Execution):
        self.spec, self.entry, self.device, self.progress = spec, entry, device, progress
        self.cuda = device.type == "cuda"
        self.execution = execution.resolve(device)
        self.bf16 = spec.precision == "bf16"
        self.dtype = torch.bfloat16 if self.bf16 else torch.float32
        if self.cuda:
            torch.backends.cudnn.benchmark = self.execution.cudnn_benchmark
            # float32 means float32: no TF32 in matmuls and convolutions (torch lets cuDNN use it).
            torch.backends.cuda.matmul.allow_tf32 = self.bf16
            torch.backends.cudnn.allow_tf32 = self.bf16

    def synchronize(self) -> None:
        if self.cuda:
            torch.cuda.synchronize(self.device)

    def train_steps(self, epoch: int, steps: int | None) -> None:
        """The first `steps` steps of `epoch` (all of them with None): for timing."""
        self._train_epoch(epoch, max_steps=steps)

    # -- setup ---------------------------------------------------------------------------------
    def _load_data(self) -> None:
        spec = self.spec
        train = fgdata.load(spec.dataset, "train", subset=spec.subset, seed=spec.seed, **spec.data_args)
        test = fgdata.load(spec.dataset, "test", subset=spec.test_subset, seed=spec.seed, **spec.data_args)
        n_classes = len(train.class_names)
        superclass_map = train.superclass_map
        relabel = lambda ds: fglabels.relabel(spec.labeling, ds.y, n_classes=n_classes, seed=spec.seed,
                                              split=ds.split, superclass=ds.superclass)
        self.y_train = {"train": relabel(train), "test": relabel(test)}
        self.superclass_of = fglabels.superclass_of(spec.labeling, n_classes=n_classes, seed=spec.seed,
                                                    superclass_map=superclass_map)
        self.n_classes = n_classes
        self.n_train_classes = fglabels.n_training_labels(spec.labeling, n_classes=n_classes,
                                                          superclass_map=superclass_map)
        original = fglabels.original_class(spec.labeling, n_classes=n_classes)
        # Training label -> original class where the head also predicts the original class (identity, fine).
        self.original_of = None if original is None else torch.as_tensor(original, device=self.device)
        self.datasets = {"train": train, "test": test}
        images = train.x.ndim == 4
        if "auto" in (spec.augment, spec.normalize):
            raise SpecError(f"the trainer needs a resolved spec (fgcore.train.resolve); {spec.short} has "
                            f"augment={spec.augment!r}, normalize={spec.normalize!r}")
        if spec.normalize == "per_channel" and not images:
            raise SpecError(f"RunSpec argument `normalize`: per_channel needs image data (n, C, H, W); "
                            f"{spec.dataset} gives shape {train.x.shape}")
        mean, std = channel_stats(train.x) if spec.normalize == "per_channel" else (None, None)
        if spec.augment == "crop_flip" and not images:
            raise SpecError(f"RunSpec argument `augment`: crop_flip needs image data; {spec.dataset} "
                            f"gives shape {train.x.shape}")
        self.augment = spec.augment == "crop_flip"
        self.channels_last = self.execution.channels_last and images
        self.splits: dict[str, DeviceSplit] = {
            name: prepare_split(ds.x, self.y_train[name], ds.y, device=self.device, mean=mean, std=std,
                                pad=PAD if self.augment else 0, dtype=self.dtype,
                                channels_last=self.channels_last, resident=self.execution.resident)
            for name, ds in self.datasets.items()}
        self.in_shape = tuple(train.x.shape[1:])

    def _build(self) -> None:
        spec = self.spec
        torch.manual_seed(spec.seed)
        outputs = fglosses.num_outputs(spec.loss, self.n_train_classes)
        model = fgmodels.build(spec.model, outputs, self.in_shape, **spec.model_args).to(self.device)
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)
        self.model = model
        # The training forward pass; compiled when asked (the weights are shared with self.model).
        self.forward = torch.compile(model, backend=self.execution.compile) if self.execution.compile else model
        self.loss_fn = fglosses.get_loss(spec.loss, num_outputs=outputs)  # its predict() gives the labels
        params = [p for p in model.parameters() if p.requires_grad]
        fused = {"fused": True} if self.execution.fused_sgd else {}
        self.optimizer = torch.optim.SGD(params, lr=spec.lr, momentum=spec.momentum,
                                         weight_decay=spec.weight_decay, **fused)
        # On the CPU whatever the training device: one seed, one data stream, on every machine.
        self.generator = torch.Generator(device="cpu")
        self.generator.manual_seed(spec.seed)
        self.graphed = None
        if self.execution.cuda_graph:
            batch = self.splits["train"].n if spec.optimizer == "gd" else spec.batch_size
            self.graphed = GraphedSteps(self._sgd_step, lambda: self.optimizer.zero_grad(set_to_none=True),
                                        batch=batch, device=self.device, graph=self.cuda, name=spec.short)
            # The graph reads the learning rate from this tensor; _train_epoch fills it.
            self.lr_tensor = torch.tensor(spec.lr, device=self.device) if self.cuda else None

    # -- passes --------------------------------------------------------------------------------
    def _autocast(self):
        # No cache of cast weights: a CUDA graph must cast them afresh at every replay (the same values).
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16, cache_enabled=False)

    def _train_epoch(self, epoch: int, max_steps: int | None = None) -> dict[str, float]:
        spec, model, split = self.spec, self.model, self.splits["train"]
        lr = spec.lr * _lr_factor(spec.schedule, epoch, spec.epochs)
        graphed = self.graphed is not None and self.graphed.use_graph
        for group in self.optimizer.param_groups:
            if graphed:
                self.lr_tensor.fill_(lr)
                group["lr"] = self.lr_tensor
            else:
                group["lr"] = lr
        model.train()
        batch = split.n if spec.optimizer == "gd" else spec.batch_size
        draws = draw_epoch(self.generator, split.n, batch, augment=self.augment).to(self.device)
        positions = draws.batches(batch)[:max_steps]
        if self.graphed is not None:
            full = sum(p.stop - p.start == batch for p in positions)
            total_loss, correct = (t.clone() for t in self.graphed.run_epoch(draws, full))
            positions = positions[full:]   # the last, partial batch: eagerly
        else:
            total_loss = torch.zeros((), device=self.device)
            correct = torch.zeros((), device=self.device, dtype=torch.int64)
        for position in positions:
            self.optimizer.zero_grad(set_to_none=True)
            loss, right = self._sgd_step(draws, position)
            total_loss += loss
            correct += right
        if not torch.isfinite(total_loss):
            raise FloatingPointError(f"training diverged at epoch {epoch} (loss is {total_loss.item()}); "
                                     f"lower the learning rate of {spec.short}")
        return {"lr": lr, "train_loss_running": total_loss.item() / split.n,
                "train_acc_running": correct.item() / split.n}

    def _sgd_step(self, draws, position) -> tuple[torch.Tensor, torch.Tensor]:
        """One SGD step on the batch at `position` of the epoch's draws (a slice, or a tensor of
        positions from a CUDA graph's step counter); returns its summed loss and number correct."""
        split = self.splits["train"]
        index = draws.order[position]
        x = split.batch(index, draws, position)
        y = split.y_train[index]
        with self._autocast():
            out = self.forward(x)
            loss = self.loss_fn(out.float(), y)
        loss.backward()
        self.optimizer.step()
        return loss.detach() * len(index), (self.loss_fn.predict(out.detach()) == y).sum()

    @torch.no_grad()
    def _eval_pass(self, name: str, *, statistics: bool, keep_features: bool) -> tuple[dict, dict]:
        """Loss/accuracy of one split in eval mode; optionally streamed statistics and features."""
        spec, model, split = self.spec, self.model, self.splits[name]
        model.eval()
        record: dict[str, Any] = {}
        arrays: dict[str, Any] = {}
        accumulators = {}
        if statistics:
            accumulators = {
                "train": fgmetrics.ClassStatistics(self.n_train_classes, covariance=True, device=self.device,
                                                   class_counts=torch.bincount(split.y_train, minlength=self.n_train_classes)),
                "original": fgmetrics.ClassStatistics(self.n_classes, covariance=False, device=self.device,
                                                      class_counts=torch.bincount(split.y_original, minlength=self.n_classes)),
            }
        kept = []
        # (features, logits, labels) of each batch, for NC4 once the pass knows its class means
        decided = [] if statistics and self._head_per_label() else None
        total_loss = torch.zeros((), device=self.device, dtype=torch.float64)
        correct = torch.zeros((), device=self.device, dtype=torch.int64)
        correct_original = torch.zeros((), device=self.device, dtype=torch.int64)
        step = EVAL_BATCH.get(self.device.type, 1024)
        for start in range(0, split.n, step):
            index = slice(start, min(start + step, split.n))
            x = split.inputs(index)
            with self._autocast():
                h = model.features(x)
                out = model.head(h)
            h, out = h.float(), out.float()
            y = split.y_train[index]
            total_loss += self.loss_fn(out, y).double() * y.numel()
            pred = self.loss_fn.predict(out)
            correct += (pred == y).sum()
            original_pred = self._original_prediction(pred)
            if original_pred is not None:
                correct_original += (original_pred == split.y_original[index]).sum()
            if statistics:
                accumulators["train"].update(h, y)
                accumulators["original"].update(h, split.y_original[index])
                if decided is not None:
                    decided.append((h, out, y))
            if keep_features:
                kept.append(h.cpu())
        record[f"{name}_loss"] = total_loss.item() / split.n
        record[f"{name}_acc"] = correct.item() / split.n
        if self.original_of is not None:
            record[f"{name}_acc_original"] = correct_original.item() / split.n
        if statistics:
            train_stats = accumulators["train"].result()
            original_stats = accumulators["original"].result()
            record.update(self._collapse_family(train_stats, decided))
            arrays["D_train"] = fgmetrics.class_distance_from_stats(train_stats)
            arrays["D_original"] = fgmetrics.class_distance_from_stats(original_stats)
        if keep_features:
            arrays["features"] = torch.cat(kept).numpy()
        return record, arrays

    def _head_per_label(self) -> bool:
        """Whether the head is a linear layer with one row per training label, as NC3 and NC4 need
        (not the single output of the unhinged loss)."""
        weight = getattr(self.model.head, "weight", None)
        return isinstance(weight, torch.Tensor) and weight.ndim == 2 and weight.shape[0] == self.n_train_classes

    def _collapse_family(self, stats, decided: list | None) -> dict[str, float]:
        """The Neural-Collapse family (fgcore.metrics.METRICS) on the training labels' class statistics;
        where the head has one row per label, also the metrics that read it (NC3: its weight against the
        centred means; NC4: its decisions against the nearest class centre, over the batches of features
        and logits the pass kept)."""
        record = {}
        for metric in fgmetrics.METRICS.values():
            if metric.reads == "features":
                record[metric.key] = _defined(metric, stats)
            elif decided is not None:
                record[metric.key] = _defined(metric, stats, weight=self.model.head.weight, batches=decided)
        return record

    def _original_prediction(self, pred: torch.Tensor) -> torch.Tensor | None:
        """Original-class predictions where the head can give them (fgcore.labels.original_class)."""
        return None if self.original_of is None else self.original_of[pred]

    def _evaluate(self, epoch: int, record: dict[str, Any]) -> None:
        spec = self.spec
        snapshot = epoch in spec.snapshot_epochs
        statistics = snapshot or epoch == spec.epochs or (spec.stats_every > 0 and epoch % spec.stats_every == 0)
        started = time.perf_counter()
        if spec.stats_every == 0 and not statistics:
            return  # "snapshots only": the synthetic runs need nothing in between (no test pass either)
        test_record, test_arrays = self._eval_pass("test", statistics=False, keep_features=snapshot)
        record.update(test_record)
        if statistics:  # every snapshot epoch is a statistics epoch
            train_record, train_arrays = self._eval_pass("train", statistics=True, keep_features=snapshot)
            record.update(train_record)
            save_tensors(self.entry.file(f"stats/epoch_{epoch:04d}.safetensors"),
                         {k: train_arrays[k] for k in ("D_train", "D_original")})
            self.stats_epochs.append(epoch)
            if snapshot:
                save_tensors(self.entry.file(f"features/epoch_{epoch:04d}.safetensors"),
                             {"train": train_arrays["features"], "test": test_arrays["features"]})
        record["eval_seconds"] = time.perf_counter() - started

    # -- checkpoints ---------------------------------------------------------------------------
    def _graph_used(self) -> bool:
        """Whether the full batches ran as static-buffer steps: replayed from a captured graph on CUDA
        (False where the capture fell back to eager steps), run eagerly on the CPU."""
        if self.graphed is None:
            return False
        return self.graphed.captured if self.cuda else True

    def _device_name(self) -> str:
        return str(self.device) + (f" ({torch.cuda.get_device_name(self.device)})" if self.cuda else "")

    def _checkpoint(self, epoch: int) -> None:
        # Plain data only (tensors, numbers, strings, lists, dicts): it loads with weights_only=True.
        torch_save_atomic(self.entry.file("checkpoint.pt"), {
            "epoch": epoch, "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(), "history": self.history,
            "stats_epochs": self.stats_epochs, "spec_key": self.entry.key, "segments": self.segments})
        self._write_history()
        self.last_checkpoint = time.monotonic()

    def _resume(self) -> int:
        """The last epoch of a usable checkpoint (state restored), else -1 (start over, said why)."""
        path = self.entry.file("checkpoint.pt")
        if not path.exists():
            return -1
        try:
            try:
                # weights_only: a checkpoint is data, never code. On a shared cache anyone who can
                # write a checkpoint.pt would otherwise run code in every job that resumes from it.
                state = torch.load(path, map_location="cpu", weights_only=True)
            except pickle.UnpicklingError as exc:
                # torch's message opens with advice to load it with weights_only=False: not ours to give.
                detail = next((line for line in str(exc).splitlines() if "global" in line.lower()), "")
                raise ValueError("it holds objects other than tensors, numbers, strings, lists and dicts, so "
                                 "fgcore did not write it; it was not loaded, so that no code in it runs"
                                 + (f" ({detail.strip()})" if detail else "")) from exc
            if not isinstance(state, dict) or state.get("spec_key") != self.entry.key:
                raise ValueError("it belongs to another spec")
            self.model.load_state_dict(state["model"])  # copies onto this run's device
            self.optimizer.load_state_dict(state["optimizer"])  # moves the state to the parameters' device
            self.generator.set_state(state["generator"])
        except Exception as exc:  # an unreadable or foreign checkpoint: start over rather than trust it
            print(f"fgcore: cannot resume {self.entry.path} from its checkpoint: {exc}; starting over",
                  file=sys.stderr)
            self._build()
            return -1
        self.history = state["history"]
        self.stats_epochs = list(state["stats_epochs"])
        self.segments = list(state.get("segments", []))
        last_device = self.segments[-1]["device"] if self.segments else None
        if last_device is not None and last_device != self._device_name():
            print(f"fgcore: resuming {self.entry.path} at epoch {int(state['epoch'])} on {self._device_name()}; "
                  f"its checkpoint was written on {last_device} (same data stream and precision; the "
                  f"arithmetic of the two devices differs in the last bits)", file=sys.stderr)
        return int(state["epoch"])

    def _write_history(self) -> None:
        text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in self.history)
        atomic_write_bytes(self.entry.file("history.jsonl"), text.encode())

    # -- main ----------------------------------------------------------------------------------
    def run(self) -> None:
        spec, entry = self.spec, self.entry
        entry.path.mkdir(parents=True, exist_ok=True)
        atomic_write_json(entry.file("spec.json"), spec.record())
        self._load_data()
        self._build()
        self.history: list[dict[str, Any]] = []
        self.stats_epochs: list[int] = []
        self.segments: list[dict[str, Any]] = []  # which device trained which epochs
        done = self._resume()
        self.segments.append({"device": self._device_name(), "from_epoch": max(done, 0) + 1})
        self.last_checkpoint = time.monotonic()
        checkpoint_seconds = settings.checkpoint_seconds()  # between resume checkpoints; the final one is always written
        started = time.perf_counter()
        if done < 0:
            record = {"epoch": 0}
            self._evaluate(0, record)
            self.history.append(record)
            done = 0
        # A bar in a terminal, a line every 30 s in a log (a batch job), a file for a claims session.
        from ..training_progress import epoch_bar
        bar = epoch_bar(spec, key=self.entry.key, initial=done, show=self.progress)
        for epoch in range(done + 1, spec.epochs + 1):
            epoch_start = time.perf_counter()
            record = {"epoch": epoch, **self._train_epoch(epoch)}
            record["train_seconds"] = time.perf_counter() - epoch_start
            self._evaluate(epoch, record)
            self.history.append(record)
            if bar is not None:
                bar.update(1)
                shown = {"loss": f"{record['train_loss_running']:.3g}",
                         "acc": f"{record.get('train_acc', record['train_acc_running']):.3f}"}
                if "test_acc" in record:
                    shown["test"] = f"{record['test_acc']:.3f}"
                bar.set_postfix(shown)
            if time.monotonic() - self.last_checkpoint > checkpoint_seconds and epoch < spec.epochs:
                self._checkpoint(epoch)
        if bar is not None:
            bar.close()
        self._finish(time.perf_counter() - started)

    def _finish(self, seconds: float) -> None:
        spec, entry = self.spec, self.entry
        self._checkpoint(spec.epochs)
        save_tensors(entry.file("labels.safetensors"), {
            "train_train": self.y_train["train"], "test_train": self.y_train["test"],
            "train_original": self.datasets["train"].y, "test_original": self.datasets["test"].y})
        train_ds = self.datasets["train"]
        atomic_write_json(entry.file("meta.json"), {
            "class_names": list(train_ds.class_names),
            "n_train_classes": self.n_train_classes,
            "superclass_of": None if self.superclass_of is None else [int(v) for v in self.superclass_of],
            "data_source": train_ds.source,
            "data_meta": _small_json(train_ds.meta),
            "n_train": int(len(train_ds.y)), "n_test": int(len(self.datasets["test"].y)),
            "feature_dim": int(self.model.feature_dim),
            "snapshot_epochs": list(spec.snapshot_epochs),
            "stats_epochs": sorted(set(self.stats_epochs)),
            "device": self._device_name(),
            "devices": self.segments,
            "precision": spec.precision,
            "execution": {**asdict(self.execution), "cuda_graph": self._graph_used()},
            "torch": torch.__version__, "python": platform.python_version(),
            "train_seconds": seconds, "pid": os.getpid(), "host": platform.node(),
        })
        # A resumed run re-ran every epoch after its checkpoint, so the files a crash left for those
        # epochs have been rewritten; the manifest lists (and checksums) what is there now.
        entry.write_manifest({"key": entry.key})


def _small_json(value: Any, limit: int = 256) -> Any:
    """The JSON-friendly, small parts of a Dataset's meta (parameters, group lists; no big arrays)."""
    if isinstance(value, dict):
        out = {str(k): _small_json(v, limit) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None}
    if isinstance(value, np.ndarray):
        return value.tolist() if value.size <= limit else None
    if isinstance(value, (list, tuple)):
        return [_small_json(v, limit) for v in value] if len(value) <= limit else None
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return None

