"""The full batches of an epoch as one CUDA graph, replayed once per batch.

Eager PyTorch launches every kernel of a training step from Python, and a CIFAR step at batch 128 is
small: measured on one H200 (README, GPU), ResNet-18 took 10.5 ms per eager step with the GPU 19%
busy, and 3.1 ms per step replayed from a CUDA graph, with bit-identical losses over 20 steps. A
graph replays the recorded kernels without Python in between.

What a replay does is fixed at capture, so every step reads its inputs from static buffers: the
epoch's draws (permutation, crop offsets, flips) are copied into buffers of the split's length, a
step counter on the device picks batch `counter` of them (positions counter*b .. counter*b + b - 1,
the eager loop's order, bit for bit), and the graph runs forward, backward and the optimiser step,
adds the batch's loss and correct count to static sums and advances the counter. The learning rate
must be a tensor the trainer fills each epoch (a float would be baked into the graph).

Capturing needs what a step creates on first use (momentum buffers, cuDNN's autotuned algorithms,
autograd's workspaces): the first WARMUP_STEPS full batches of the first epoch run eagerly, on a side
stream, as real steps of the run, before the capture. A step that cannot be captured (a model that
synchronises with the host, say) falls back to eager steps with a one-line warning.

On the CPU there is no graph: each step runs the same static-buffer code eagerly (what the tests and
`make gpu-check --dry-run` exercise).
"""

from __future__ import annotations

import sys
from typing import Callable

import torch

from .device_data import EpochDraws

# Eager steps before the capture (the CUDA-graph recipe of PyTorch's documentation uses 3).
WARMUP_STEPS = 3

#: step(draws, positions) -> (summed loss of the batch, number of correct predictions): one optimiser
#: step on the batch at `positions` of `draws` (a slice, or a tensor of positions).
Step = Callable[[EpochDraws, "slice | torch.Tensor"], tuple[torch.Tensor, torch.Tensor]]


class GraphedSteps:
    """Replays the full batches of each epoch from one captured graph (see the module docstring).

    step: the training step (Step); zero_grad: sets the gradients to None before an eager step and
    before the capture (inside the graph, backward writes the gradients afresh at every replay).
    graph: capture a CUDA graph (False: the same static-buffer steps, eagerly). name: for warnings.
    """

    def __init__(self, step: Step, zero_grad: Callable[[], None], *, batch: int, device: torch.device,
                 graph: bool, name: str = "the run"):
        self.step, self.zero_grad, self.batch, self.device = step, zero_grad, batch, device
        self.use_graph = graph and device.type == "cuda"
        self.name = name
        self.graph: torch.cuda.CUDAGraph | None = None
        self.draws: EpochDraws | None = None
        self.counter = torch.zeros((), dtype=torch.int64, device=device)
        self.offsets = torch.arange(batch, device=device)
        self.loss_sum = torch.zeros((), device=device)
        self.correct = torch.zeros((), dtype=torch.int64, device=device)
        self.captured_steps = 0   # steps replayed from the graph (for the run's record)

    @property
    def captured(self) -> bool:
        return self.graph is not None

    def run_epoch(self, draws: EpochDraws, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Train on the first `steps` full batches of `draws` (already on the device); returns the
        summed loss and the number correct over them, on the device (no synchronisation)."""
        self._load(draws)
        self.counter.zero_()
        self.loss_sum.zero_()
        self.correct.zero_()
        done = 0
        if self.use_graph and self.graph is None and steps > WARMUP_STEPS:
            self._warm_up()
            done = WARMUP_STEPS
            self._capture()
        for _ in range(steps - done):
            if self.graph is not None:
                self.graph.replay()
                self.captured_steps += 1
            else:
                self.zero_grad()
                self._body()
        return self.loss_sum, self.correct

    # -- internals --------------------------------------------------------------------------------------
    def _load(self, draws: EpochDraws) -> None:
        fields = ("order", "dy", "dx", "flip")
        if self.draws is None or self.draws.order.shape != draws.order.shape:
            if self.graph is not None:
                raise ValueError(f"GraphedSteps: the epoch has {draws.order.shape[0]} samples, the captured "
                                 f"graph {self.draws.order.shape[0]}")
            self.draws = EpochDraws(*(None if getattr(draws, f) is None else torch.empty_like(getattr(draws, f))
                                      for f in fields))
        for f in fields:
            source = getattr(draws, f)
            if source is not None:
                getattr(self.draws, f).copy_(source, non_blocking=True)

    def _body(self) -> None:
        positions = self.counter * self.batch + self.offsets
        loss, correct = self.step(self.draws, positions)
        self.loss_sum += loss
        self.correct += correct
        self.counter += 1

    def _warm_up(self) -> None:
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):
            for _ in range(WARMUP_STEPS):
                self.zero_grad()
                self._body()
        torch.cuda.current_stream(self.device).wait_stream(side)

    def _capture(self) -> None:
        self.zero_grad()
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph):
                self._body()
        except Exception as exc:  # an op that cannot be captured: train eagerly, say so once
            torch.cuda.synchronize(self.device)
            print(f"fgcore: the training step of {self.name} cannot be captured as a CUDA graph "
                  f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]}); training with eager steps",
                  file=sys.stderr)
            self.use_graph = False
            self.zero_grad()
            return
        self.graph = graph
