"""Why sbatch refused a sweep's job array, and which `fgcore sweep` option to change.

sbatch's own words ("Invalid generic resource (gres) specification", "Memory specification can not be
satisfied", "Requested node configuration is not available", ...) are compared with what the nodes of
the partition offer (sinfo: CPUs, memory, generic resources, time limit), so the message names the
option and a value that fits, e.g. "change --mem: 32G per task, but the largest node of partition
debug has 24105 MB".
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import UsageError

Runner = Callable[..., subprocess.CompletedProcess]
RESOURCE_OPTIONS = "--partition, --gpus-per-task, --cpus-per-task, --mem, --time or --sbatch"


@dataclass(frozen=True)
class Node:
    partition: str
    cpus: int
    memory_mb: int
    gres: str          # "(null)" when the node declares no generic resources
    time_limit: str    # "infinite", "1-00:00:00", ...

    @property
    def gpus(self) -> bool:
        return "gpu" in self.gres.lower()


def memory_mb(value: str) -> float | None:
    """A SLURM memory size (32G, 64000M, 500, 1.5T) in MB (M is the default unit)."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]?)B?", str(value).strip(), re.IGNORECASE)
    if not match:
        return None
    number, unit = float(match.group(1)), match.group(2).upper() or "M"
    return number * {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}[unit]


def partition_nodes(partition: str | None, runner: Runner = subprocess.run, *, default_only: bool = True) -> list[Node]:
    """The nodes (one line per node group) of `partition`, else of the default partition (of every
    partition with default_only=False); [] if sinfo fails."""
    command = ["sinfo", "--noheader", "--format=%P|%c|%m|%G|%l"]
    if partition:
        command.append(f"--partition={partition}")
    try:
        result = runner(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return []
    nodes = []
    for line in result.stdout.splitlines() if result.returncode == 0 else []:
        parts = line.strip().split("|")
        if len(parts) != 5:
            continue
        name = parts[0]
        if not partition and default_only and not name.endswith("*"):
            continue  # without --partition, sbatch uses the default partition (marked * by sinfo)
        try:
            nodes.append(Node(name.rstrip("*"), int(parts[1].rstrip("+")), int(parts[2].rstrip("+")), parts[3],
                              parts[4]))
        except ValueError:
            continue
    return nodes


def sbatch_said(error_text: str) -> list[str]:
    """sbatch's error lines (without the "sbatch: error:" prefix), in order, each once."""
    said = [line.split("error:", 1)[1].strip() for line in error_text.splitlines() if "sbatch: error:" in line]
    if not said:
        lines = [line.strip() for line in error_text.splitlines() if line.strip()]
        said = lines[-1:] if lines else ["(no message)"]
    return list(dict.fromkeys(said))


def misfits(options: Any, nodes: list[Node]) -> list[tuple[str, str]]:
    """(option, why) for each resource that no node of the partition offers, from sinfo's nodes.

    options: the sweep's SlurmOptions. Memory is compared only where the nodes declare theirs (sinfo
    shows 1 MB for a node without RealMemory).
    """
    if not nodes:
        return []
    where = f"partition {nodes[0].partition}"
    out = []
    if options.gpus_per_task and not any(n.gpus for n in nodes):
        gres = ", ".join(sorted({n.gres for n in nodes}))
        out.append(("--gpus-per-task", f"{options.gpus_per_task} GPU(s) per task, but the nodes of {where} declare "
                                       f"no GPUs (gres: {gres}): on a CPU partition use --gpus-per-task 0; where GPUs "
                                       f"are asked for with --gres, --gpus-per-task 0 --sbatch gres=gpu:1; or "
                                       f"--partition a GPU partition"))
    most_cpus = max(n.cpus for n in nodes)
    if options.cpus_per_task > most_cpus:
        out.append(("--cpus-per-task", f"{options.cpus_per_task} CPUs per task, but the largest node of {where} has "
                                       f"{most_cpus}: use --cpus-per-task {most_cpus} or fewer"))
    wanted_mb = memory_mb(options.mem) if options.mem else None
    largest_mb = max(n.memory_mb for n in nodes)
    if wanted_mb and largest_mb > 1 and wanted_mb > largest_mb:
        out.append(("--mem", f"{options.mem} per task, but the largest node of {where} has {largest_mb} MB: use "
                             f"--mem {largest_mb}M or less"))
    return out


def _changes(advice: list[tuple[str, str]]) -> str:
    return "".join(f"\n  change {option}: {why}" for option, why in advice)


def check_fits(options: Any, runner: Runner = subprocess.run) -> None:
    """Before sbatch: refuse a request that sbatch accepts but no node can run (more CPUs than any node
    has: the array would wait in the queue forever). ValueError names every option that does not fit."""
    advice = misfits(options, partition_nodes(options.partition, runner))
    if any(option == "--cpus-per-task" for option, _ in advice):
        raise UsageError("no node of the partition can run one task as asked, so the job array would wait in the "
                         "queue forever; nothing was submitted." + _changes(advice))


def explain_rejection(error_text: str, options: Any, runner: Runner = subprocess.run) -> str:
    """The message for a refused submission: sbatch's words, then each option to change and why.

    options: the sweep's SlurmOptions (partition, gpus_per_task, cpus_per_task, mem, time).
    """
    said = sbatch_said(error_text)
    text = " ".join(said).lower()
    nodes = partition_nodes(options.partition, runner)
    advice = misfits(options, nodes)
    named = {option for option, _ in advice}
    where = f"partition {nodes[0].partition}" if nodes else (f"partition {options.partition}" if options.partition
                                                              else "the default partition")
    if ("gres" in text or "generic resource" in text) and "--gpus-per-task" not in named:
        advice.append(("--gpus-per-task", f"{options.gpus_per_task} GPU(s) per task: use --gpus-per-task 0 where "
                                          f"GPUs are asked for with --gres (--sbatch gres=gpu:1), or --partition a "
                                          f"GPU partition"))
    if "memory" in text and "--mem" not in named:
        advice.append(("--mem", f"{options.mem} per task is more than a node of {where} offers (see `sinfo -o %m`)"))
    if "partition" in text:
        known = sorted({n.partition for n in partition_nodes(None, runner, default_only=False)})
        advice.append(("--partition", f"{options.partition!r} is not a partition of this cluster"
                                      + (f" (partitions: {', '.join(known)})" if known else " (see `sinfo`)")))
    if "account" in text:
        advice.append(("--sbatch account=NAME", "an account you may charge (`sacctmgr show assoc user=$USER`)"))
    if "qos" in text:
        advice.append(("--sbatch qos=NAME", "a QOS you may use (`sacctmgr show assoc user=$USER format=qos`)"))
    if "time limit" in text:
        limits = ", ".join(sorted({n.time_limit for n in nodes})) or "see `sinfo`"
        advice.append(("--time", f"{options.time} is over the limit of {where} ({limits})"))
    head = f"sbatch refused the job array: {'; '.join(said)}. Nothing was submitted."
    if not advice:
        return f"{head} Change the option it names ({RESOURCE_OPTIONS}; see `fgcore sweep --help`)."
    return head + _changes(advice)
