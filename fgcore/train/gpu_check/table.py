"""The one table `make gpu-check` prints: setup, result (the checks) and speed rows."""

from __future__ import annotations

import math
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

OK, FAIL, INFO = "ok", "FAIL", "info"


@dataclass
class Row:
    section: str
    name: str
    value: str
    limit: str = ""
    status: str = INFO


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # printed under the table

    def add(self, section: str, name: str, value: str, limit: str = "", status: str = INFO) -> None:
        self.rows.append(Row(section, name, value, limit, status))

    def check(self, section: str, name: str, value: float, limit: float, *, op: str = "<=",
              fmt: str = ".2e") -> bool:
        """A correctness check: value <= limit (or >= with op=">="); NaN fails."""
        ok = bool(value <= limit) if op == "<=" else bool(value >= limit)
        ok = ok and math.isfinite(value)
        self.add(section, name, format(value, fmt), f"{op} {limit:g}", OK if ok else FAIL)
        self.numbers[f"{section}: {name}"] = value
        return ok

    @contextmanager
    def guard(self, section: str, name: str) -> Iterator[None]:
        """A check or measurement that raises is a FAIL row saying why: a check that could not run is
        not a check that held."""
        try:
            yield
        except Exception as exc:  # any failure of the GPU path is a result, not a crash of the table
            text = " ".join(f"{type(exc).__name__}: {exc}".split())
            self.add(section, name, f"could not run: {text[:300]}", "runs", FAIL)
            print(f"gpu-check: {name}: {text}", file=sys.stderr)

    @property
    def failed(self) -> list[Row]:
        return [r for r in self.rows if r.status == FAIL]

    def table(self) -> str:
        heads = ("section", "check / measurement", "value", "limit")
        widths = [max([len(getattr(r, f)) for r in self.rows] + [len(h)])
                  for f, h in zip(("section", "name", "value", "limit"), heads)]
        line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths + [6])).rstrip()
        out = [line([*heads, "status"]), line(["-" * w for w in widths] + ["------"])]
        out += [line([r.section, r.name, r.value, r.limit, r.status]) for r in self.rows]
        return "\n".join(out + [f"* {note}" for note in self.notes])
