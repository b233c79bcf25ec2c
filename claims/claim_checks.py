"""The checks shared by several claims, written once.

Each function measures one quantity on a Run (through fgcore.analysis) and records it with the
claim's threshold, either as the claim's check or, with `control=True`, as the same check on the
negative control. Thresholds are stated here with the reason for each one (issue 4 / DESIGN.md).
"""

from __future__ import annotations

import math

import numpy as np

from fgcore import analysis

# -- thresholds and their reasons ---------------------------------------------------------------
NC1_FACTOR = 0.1        # NC1 must fall at least tenfold from the untrained network (Fig. 3: ~1 -> ~0.01)
NC2_FACTOR = 0.5        # NC2 must at least halve from the untrained network (Fig. 3: NC2 falls towards 0)
LINE_GAP = 0.2          # at the first snapshot the diagonal is clearly darker (Fig. 5a): a fifth of the
                        # normalised scale, i.e. well beyond seed noise of the darkness (~0.05)
EMERGENCE_LEVEL = 0.5   # a line "has emerged" once it is half-way dark on the normalised scale
DIAG_RATIO = 1.5        # same-superclass D at least 1.5x diagonal D at the end (Fig. 5d; full collapse
                        # gives 1.0, the probe on digits 2.5)
PURITY = {"fast": 0.8, "slow": 0.8, "gpu": 0.9}   # t-SNE clusters vs original classes (chance: 0.5
                        # for 2 classes per superclass); the gpu tier holds the paper's clear Fig. 6 to 0.9
CLP_FRACTION = 0.75     # CPU tiers: CLP recovers >= 3/4 of the way from chance to LPO
CLP_ABSOLUTE = 0.93     # gpu, official CIFAR-10, ResNet-18: the paper's number (abstract, Fig. 9)
CLP_CLOSE = 0.03        # gpu: CLP within 3 points of LPO and of OT (Fig. 9: the three bars nearly equal)

# The negative control of the fine-structure claims (fixture [controls] fine_structure).
NO_SUBCLUSTERS = ("one Gaussian per superclass split by a random hyperplane: the subclasses are linearly "
                  "decodable but form no sub-clusters")


def recorder(claim, seed: int, *, control: bool = False, description: str | None = None):
    """record(name, value, op, threshold, why): the claim's check, or the same check on its control."""
    def record(name: str, value: float, op: str, threshold: float, why: str) -> bool:
        if control:
            return claim.control(name, value, op, threshold, seed=seed, description=description)
        return claim.check(name, value, op, threshold, why=why, seed=seed)
    return record


def _median(values) -> float:
    return float(np.median(list(values)))


def _runs(run_or_runs) -> list:
    return list(run_or_runs) if isinstance(run_or_runs, (list, tuple)) else [run_or_runs]


def diag_darker_final(claim, run, seed: int, *, control: bool = False, description: str | None = None) -> float:
    """run: a Run, or a list of Runs (then the median over them)."""
    ratio = _median(analysis.superclass_to_diagonal(r, "last") for r in _runs(run))
    recorder(claim, seed, control=control, description=description)(
        "same-superclass D / diagonal D at the end", ratio, ">=", DIAG_RATIO,
        "Fig. 5d: the diagonal stays clearly darker; 1.0 is full collapse onto the superclass")
    return ratio


def diag_first(claim, run, seed: int, *, control: bool = False, description: str | None = None) -> None:
    history = analysis.lines_history(run, [e for e in run.snapshot_epochs if e > 0])
    first_epoch, first = history[0]
    gap = first.darkness_diagonal - first.darkness_same_superclass
    record = recorder(claim, seed, control=control, description=description)
    record("darkness(diagonal) - darkness(superclass lines) at the first snapshot", gap, ">=", LINE_GAP,
           "Fig. 5a: early, only the diagonal is dark")
    from fgcore.metrics import emergence

    emerged = emergence(history, EMERGENCE_LEVEL)
    never = run.snapshot_epochs[-1] + 1
    diagonal = emerged["diagonal"]
    same = emerged["same_superclass"] if emerged["same_superclass"] is not None else never
    lead = (same - diagonal) if diagonal is not None else -never
    record(f"epochs by which the diagonal emerges (darkness >= {EMERGENCE_LEVEL}) before the superclass "
           f"lines", lead, ">", 0, "Sec. 4.1 (i): the diagonal line emerges earlier in training")


def cluster_purity(claim, run, seed: int, *, control: bool = False, description: str | None = None):
    result = analysis.clp(run, random_state=seed)
    threshold = PURITY.get(claim.tier or "fast", PURITY["fast"])
    recorder(claim, seed, control=control, description=description)(
        "mean t-SNE cluster purity over superclasses", result.mean_purity, ">=", threshold,
        "Fig. 6: separate clusters per original class; chance is 1 / classes per superclass")
    return result


def clp_relative(claim, run, seed: int, *, control: bool = False, description: str | None = None) -> dict:
    """CPU tiers (and architectures other than the paper's headline run): CLP against chance and LPO.

    run: a Run, or a list of Runs (then the median fraction over them; the numbers of the median run)."""
    measured = []
    for r in _runs(run):
        result = analysis.clp(r, random_state=seed)
        probe = analysis.lpo(r, random_state=seed)
        span = probe.accuracy - result.chance
        fraction = (result.accuracy - result.chance) / span if span > 0 else -math.inf
        measured.append((fraction, {"clp": result.accuracy, "lpo": probe.accuracy, "chance": result.chance,
                                    "result": result}))
    measured.sort(key=lambda item: item[0])
    fraction, numbers = measured[len(measured) // 2]
    recorder(claim, seed, control=control, description=description)(
        "(CLP - chance) / (LPO - chance)", fraction, ">=", CLP_FRACTION,
        "CLP recovers most of what a probe with the true labels gets; chance = coarse accuracy / classes "
        "per superclass")
    return numbers


def clp_figure(claim, numbers: dict, ot: float | None = None) -> None:
    claim.figure("clp_bars", clp=numbers["clp"], lpo=numbers["lpo"], ot=ot, chance=numbers["chance"])


def tsne_figure(claim, run, result) -> None:
    panels = []
    for superclass, emb in sorted(result.embeddings.items()):
        panels.append({"superclass": int(superclass), "points": emb.points, "labels": emb.labels,
                       "purity": float(result.purity[superclass])})
    claim.figure("tsne", class_names=run.class_names, superclasses=panels)


def control_runs(claim, key: str, default: str, seed: int) -> tuple[str, object]:
    """The negative-control experiment named in the fixture's [controls] table (or the default)."""
    name = claim.experiment_info().extra.get("controls", {}).get(key, default)
    return name, claim.run(name, seed=seed)
