"""`DataStatus`: whether one data set can be loaded here, where it was found or looked for, how to get it.

Also the two system helpers a data set's prepare() may need (am I root, run a command).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, replace

from .. import settings


@dataclass(frozen=True)
class DataStatus:
    """Whether one data set can be loaded here. ``str(status)`` is the human-readable report."""

    name: str
    present: bool
    location: str | None = None  # where it was found
    looked_in: tuple[str, ...] = ()  # where it was looked for (when missing)
    how_to_get: str = ""
    note: str = ""  # what prepare() did, or a warning

    def __str__(self) -> str:
        if self.present:
            lines = [f"{self.name}: present ({self.location})"]
        else:
            lines = [f"{self.name}: MISSING"]
            if self.looked_in:
                lines.append("  looked in: " + ", ".join(self.looked_in))
            if self.how_to_get:
                lines.append("  how to get it: " + self.how_to_get)
        if self.note:
            lines.append("  note: " + self.note)
        return "\n".join(lines)

    def with_note(self, note: str) -> "DataStatus":
        """The same status with `note` (what prepare() did)."""
        return replace(self, note=note)


def format_statuses(statuses) -> str:
    """All statuses, one block each, for `fgcore data check`."""
    return "\n".join(str(s) for s in statuses)


def is_root() -> bool:
    """True when this process runs as root (may install system packages)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def run_command(cmd: list[str]) -> int:
    """Run one command non-interactively, its output going to the terminal; the return code."""
    env = settings.child_environment({"DEBIAN_FRONTEND": "noninteractive"})
    return subprocess.run(cmd, env=env, check=False).returncode
