"""The `fgcore` command line: train, cache, data, report, compare, sweep, measure."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
import time
from pathlib import Path

from . import settings
from .errors import FgcoreError, UsageError
from .vocabulary import PROFILES


def _cmd_train(args: argparse.Namespace) -> int:
    from .experiments import load_experiment
    from .train import train

    experiment = load_experiment(args.experiment)
    runs = experiment.runs(args.profile or settings.profile(), seed=args.seed)
    for i, (point, spec) in enumerate(runs, 1):
        label = ", ".join(f"{k}={v}" for k, v in point.items()) or "single run"
        print(f"[{i}/{len(runs)}] {experiment.name}: {label} -> key {spec.key[:12]}", flush=True)
        started = time.perf_counter()
        run = train(spec, cache=args.cache, device=args.device, progress=not args.quiet)
        last = run.record("last")
        print(f"    done in {time.perf_counter() - started:.1f} s: train acc {last['train_acc']:.4f}, "
              f"test acc {last['test_acc']:.4f}, NC1 {last['nc1']:.4g}; {run.path}", flush=True)
    return 0


def _cache_ls(args: argparse.Namespace) -> int:
    from .train.cache import RunStore

    store = RunStore(args.cache)
    keys = store.keys()
    if not keys:
        print(f"no runs under {store.root / 'runs'}")
    for key in keys:
        entry = store.entry(key)
        state = "complete" if entry.is_complete() else "incomplete"
        try:
            spec = json.loads(entry.file("spec.json").read_text())["spec"]
            what = f"{spec['dataset']}/{spec['labeling']}/{spec['model']} lr={spec['lr']} " \
                   f"wd={spec['weight_decay']} epochs={spec['epochs']} seed={spec['seed']}"
        except (OSError, KeyError, ValueError):
            what = "(no readable spec.json)"
        size = sum(p.stat().st_size for p in entry.path.rglob("*") if p.is_file())
        print(f"{key[:12]}  {state:10s}  {size / 2**20:8.1f} MiB  {what}")
    return 0


def _cache_verify(args: argparse.Namespace) -> int:
    from .train.cache import RunStore

    store = RunStore(args.cache)
    bad = 0
    for key in args.keys or store.keys():
        entry = store.resolve(key)
        problems = entry.problems(checksums=True)
        bad += bool(problems)
        print(f"{entry.key[:12]}  {'OK' if not problems else 'BAD: ' + '; '.join(problems)}")
    if bad:
        print(f"{bad} entr{'y' if bad == 1 else 'ies'} failed; remove with `fgcore cache rm KEY` and retrain")
    return 1 if bad else 0


def _cache_rm(args: argparse.Namespace) -> int:
    from .train.cache import RunStore

    if not args.keys and not args.incomplete:
        raise UsageError("give KEY prefixes to remove, or --incomplete")
    store = RunStore(args.cache)
    entries = [store.resolve(k) for k in args.keys]
    if args.incomplete:
        entries += [store.entry(k) for k in store.keys() if not store.entry(k).is_complete()]
    for entry in entries:
        with entry.lock():
            entry.invalidate()
        print(f"removed {entry.path}")
    return 0


def _data_check(args: argparse.Namespace) -> int:
    from .data import availability

    for status in availability.check():
        print(status)
    return 0


def _data_prepare(args: argparse.Namespace) -> int:
    from .data import availability

    ok = True
    for name in args.names:
        status = availability.prepare(name)
        print(status)
        ok &= status.present
    return 0 if ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fgcore", description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default=None, help="cache root (default: $FGCORE_CACHE or ~/.cache/fgcore)")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("train", help="train (or load from the cache) the runs of an experiment")
    p.add_argument("experiment", help="fixture name (fixtures/NAME.toml) or path to a .toml file")
    p.add_argument("--profile", choices=PROFILES, default=None,
                   help="profile of gpu experiments (default: $FGCORE_PROFILE, else paper, as pytest and sweep)")
    p.add_argument("--seed", type=int, default=0, help="base seed added to the experiment's seeds")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: CUDA if available)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_train)

    p = commands.add_parser("cache", help="inspect the run cache")
    sub = p.add_subparsers(dest="cache_command", required=True)
    sub.add_parser("ls", help="list cache entries").set_defaults(func=_cache_ls)
    v = sub.add_parser("verify", help="check every file of entries against their manifest checksums")
    v.add_argument("keys", nargs="*", help="key prefixes (default: all)")
    v.set_defaults(func=_cache_verify)
    r = sub.add_parser("rm", help="remove entries")
    r.add_argument("keys", nargs="*", help="key prefixes")
    r.add_argument("--incomplete", action="store_true", help="remove every entry without a valid manifest")
    r.set_defaults(func=_cache_rm)

    p = commands.add_parser("data", help="which data sets are present, and how to get the others")
    sub = p.add_subparsers(dest="data_command", required=True)
    sub.add_parser("check", help="list data sets, where they were found, how to get missing ones").set_defaults(
        func=_data_check)
    prep = sub.add_parser("prepare", help="fetch data sets where this machine allows it")
    prep.add_argument("names", nargs="+", help="e.g. fashion_mnist cifar10")
    prep.set_defaults(func=_data_prepare)

    for module in _COMMAND_MODULES:
        package = module.rsplit(".", 1)[0]
        if importlib.util.find_spec(package) is not None and importlib.util.find_spec(module) is not None:
            importlib.import_module(module).register(commands)
    return parser


# Modules that add their own subcommands through a `register(subparsers)` function, each of which
# sets `func` on its parser (report/compare and sweep live with the code they drive).
_COMMAND_MODULES = ("fgcore.report.cli", "fgcore.sweep.cli", "fgcore.measure.cli")


def main(argv: list[str] | None = None) -> int:
    """Run one command; a mistake in what it was asked (fgcore.errors, and the ValueError /
    FileNotFoundError of code that reports bad input with those) is one `error:` line and exit status 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (FgcoreError, ValueError, FileNotFoundError) as exc:
        print(f"fgcore {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
