"""What a training run says about its epochs, wherever it runs.

- In a terminal: a tqdm bar, with the loss and accuracies as its postfix.
- In a log file (a SLURM task, a sweep worker: stderr is not a terminal): a plain line at most every
  $FGCORE_LOG_PROGRESS_SECONDS (default 30) and one at the end, never a redraw per epoch.
- For a watcher (the progress of a claims session, fgcore.suite.progress): where $FGCORE_PROGRESS_DIR
  is set, a small JSON file per run in that folder (its epoch, its pace), rewritten at most once a
  second; the functions in LISTENERS are called after each write (a watcher in the same process).

A run resumed from its checkpoint says so first. The training loop creates its bar with epoch_bar()
and calls update(1), set_postfix(values) and close() on it, as on a tqdm bar.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any, Mapping, TextIO

from . import settings

PROGRESS_DIR_ENV = settings.PROGRESS_DIR.name
FILE_SECONDS = 1.0  # a watcher polls every few seconds; more frequent writes would only cost
PACE_EPOCHS = 20  # the pace is measured over the last this many epochs (a machine's load changes)
# Called (no arguments) in the training process each time a watcher file was written: a pytest
# session that trains in its own process reports from its main thread (fgcore.suite.progress).
LISTENERS: list = []


def clock(seconds: float) -> str:
    """H:MM:SS (or M:SS under an hour)."""
    seconds = int(round(max(0.0, seconds)))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def log_interval() -> float:
    """Seconds between two progress lines in a log ($FGCORE_LOG_PROGRESS_SECONDS, default 30)."""
    return settings.log_progress_seconds()


class EpochProgress:
    """Progress of one run: a bar (terminal), lines (log), a file (watcher); any of them may be off.

    label: what the run is (RunSpec.short); key: its cache key (the watcher's file name); total and
    initial: the run's epochs and those already done (a resumed run); show: bar or lines on `stream`;
    progress_dir: where the watcher's file goes (None: no file).
    """

    def __init__(self, label: str, key: str, total: int, initial: int = 0, *, show: bool = True,
                 stream: TextIO | None = None, progress_dir: str | os.PathLike | None = None,
                 interval: float | None = None):
        self.label, self.key, self.total, self.initial = label, key, int(total), int(initial)
        self.epoch = self.initial
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.started_wall = time.time()
        self.recent: deque[tuple[float, int]] = deque([(self.started, self.initial)], maxlen=PACE_EPOCHS + 1)
        self.postfix: dict[str, Any] = {}
        self.interval = log_interval() if interval is None else interval
        self.bar = None
        self.lines = False
        if show:
            interactive = getattr(self.stream, "isatty", lambda: False)()
            if interactive:
                from tqdm.auto import tqdm

                self.bar = tqdm(total=self.total, initial=self.initial, desc=f"train {label}", unit="ep",
                                file=self.stream, dynamic_ncols=True)
            else:
                self.lines = True
        self.last_line = self.started
        self.file = Path(progress_dir) / f"{key}.json" if progress_dir else None
        self.last_file = float("-inf")
        if self.initial:
            self._say(f"train {label}: resumed from its checkpoint at epoch {self.initial} of {self.total}")
        self._write_file()

    # -- the pace ------------------------------------------------------------------------------------
    def seconds_per_epoch(self) -> float | None:
        """Seconds per epoch over the last PACE_EPOCHS epochs (None before the first one ended)."""
        (then, first), (now, last) = self.recent[0], self.recent[-1]
        return (now - then) / (last - first) if last > first else None

    def seconds_left(self) -> float | None:
        pace = self.seconds_per_epoch()
        return None if pace is None else pace * (self.total - self.epoch)

    def line(self) -> str:
        parts = [f"train {self.label}: epoch {self.epoch}/{self.total}"]
        pace = self.seconds_per_epoch()
        if pace is not None:
            parts.append(f"{pace:.2f} s/epoch" if pace < 10 else f"{pace:.0f} s/epoch")
            parts.append("done" if self.epoch >= self.total else f"~{clock(self.seconds_left() or 0)} left")
        text = ", ".join(parts)
        if self.postfix:
            text += "; " + " ".join(f"{k} {v}" for k, v in self.postfix.items())
        return text

    # -- tqdm's interface ----------------------------------------------------------------------------
    def update(self, n: int = 1) -> None:
        self.epoch += n
        self.recent.append((time.monotonic(), self.epoch))
        if self.bar is not None:
            self.bar.update(n)
        self._tick()

    def set_postfix(self, values: Mapping[str, Any] | None = None, refresh: bool = True, **kwargs: Any) -> None:
        self.postfix = {**(values or {}), **kwargs}
        if self.bar is not None:
            self.bar.set_postfix(self.postfix, refresh=refresh)
        self._tick()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.lines:
            self._say(self.line())
        self._write_file(done=True)

    # -- outputs -------------------------------------------------------------------------------------
    def _tick(self) -> None:
        now = time.monotonic()
        if self.lines and now - self.last_line >= self.interval:
            self.last_line = now
            self._say(self.line())
        if now - self.last_file >= FILE_SECONDS:
            self._write_file()

    def _say(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def _write_file(self, done: bool = False) -> None:
        if self.file is None:
            return
        self.last_file = time.monotonic()
        state = {"key": self.key, "label": self.label, "epoch": self.epoch, "total": self.total,
                 "initial": self.initial, "seconds_per_epoch": self.seconds_per_epoch(),
                 "started": self.started_wall, "updated": time.time(), "done": done,
                 "pid": os.getpid(), "host": platform.node()}
        temporary = self.file.with_name(f".{self.file.name}.{os.getpid()}.tmp")
        try:
            temporary.write_text(json.dumps(state))
            os.replace(temporary, self.file)
        except OSError:  # the watcher's folder went away (its session ended): training goes on
            self.file = None
            return
        for listener in list(LISTENERS):
            listener()


def epoch_bar(spec: Any, *, key: str, initial: int = 0, show: bool = True) -> EpochProgress | None:
    """The progress of training `spec` (a RunSpec) from epoch `initial`; None when nothing would show it.

    show: a bar in a terminal, lines in a log (the caller's `progress` flag). A file for a watcher is
    written whenever $FGCORE_PROGRESS_DIR names a folder, shown or not.
    """
    progress_dir = settings.progress_dir()
    if progress_dir is not None and not progress_dir.is_dir():
        progress_dir = None
    if not show and progress_dir is None:
        return None
    return EpochProgress(spec.short, key, spec.epochs, initial, show=show, progress_dir=progress_dir)
