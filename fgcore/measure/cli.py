"""`fgcore measure MODEL DATA --checkpoint FILE [--labeling L] ...`: fgcore.measure.measure on the command
line. It prints the numbers, writes the page (and measurement.json beside it) and exits 0; a mistake in
what it was asked is one `error:` line and exit status 2 (fgcore.cli)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import UsageError

DEFAULT_OUT = "fgcore-measure"


def _option(text: str) -> tuple[str, Any]:
    """KEY=VALUE, the value read as JSON where it is (numbers, true/false, lists), else as text."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


def _options(pairs: list[tuple[str, Any]] | None, flag: str) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for key, value in pairs or []:
        if key in options:
            raise UsageError(f"{flag} {key}= is given twice.")
        options[key] = value
    return options


def _run(args: argparse.Namespace) -> int:
    from . import NUMBERS, measure

    result = measure(args.model, args.data, args.labeling, checkpoint=args.checkpoint, layer=args.layer,
                     layers=args.layers, model_args=_options(args.model_arg, "--model-arg"),
                     num_classes=args.num_classes, data_args=_options(args.data_arg, "--data-arg"),
                     subset=args.subset, test_subset=args.test_subset, seed=args.seed, normalize=args.normalize,
                     device=args.device, batch_size=args.batch_size, cache=args.cache, clp=not args.no_clp,
                     progress=False if args.quiet else None)
    out = Path(args.out)
    page = result.report(out)
    record = json.dumps(result.to_dict(), indent=1, sort_keys=True) + "\n"
    from ..fileio import atomic_write_text

    atomic_write_text(page.parent / "measurement.json", record)
    if args.json == "-":
        print(record, end="")
        return 0
    if args.json:
        atomic_write_text(args.json, record)
    meta = result.meta
    print(f"{meta['model']} on {meta['data']} ({meta['labeling']}), {meta['representation']}: "
          f"{meta['n_train']} training samples, {meta['feature_dim']} features"
          + (" (features from the cache)" if meta.get("from_cache") else ""))
    width = max(len(NUMBERS[k][0]) for k in result.numbers)
    for key, value in result.numbers.items():
        shown = "—" if value is None else f"{value:.6g}"
        print(f"  {NUMBERS[key][0]:<{width}}  {shown:>12}   {NUMBERS[key][2]}")
    for layer in result.layers or []:
        nc1 = "—" if layer["nc1"] is None else f"{layer['nc1']:.4g}"
        ratio = "—" if layer["ratio"] is None else f"{layer['ratio']:.4g}"
        print(f"  layer {layer['layer']}: NC1 {nc1}, distance ratio {ratio}")
    for note in result.notes:
        print(f"  note: {note}")
    print(f"page: {page}")
    return 0


def register(commands) -> None:
    """Add `fgcore measure` to the CLI's subparsers."""
    p = commands.add_parser(
        "measure", help="measure a trained model: NC1-NC4, CDNV, class distances, t-SNE, CLP (an HTML page)",
        description="Measure the last-layer features of a trained model on a data set fgcore knows: the "
                    "Neural-Collapse family (NC1-NC4, CDNV, equinorm, equiangularity), the class distance "
                    "matrix with its lines, t-SNE and CLP against LPO; writes one HTML page.")
    p.add_argument("model", help="a model fgcore knows (mlp, resnet18, ...), torchvision:NAME, or an import path "
                                 "package.module:callable")
    p.add_argument("data", help="a data set fgcore knows (digits, cifar10, image_folder:PATH, ...) or an import path")
    p.add_argument("--checkpoint", required=True, metavar="FILE",
                   help="the model's weights: a state dict (torch.save(model.state_dict(), FILE))")
    p.add_argument("--labeling", default="identity", help="coarse:K, random_coarse:K, fine, natural, identity "
                                                          "(default), ... or an import path")
    p.add_argument("--layer", default=None,
                   help="measure the output of this module (e.g. layer3) or node of the model's graph (torchvision "
                        "feature extraction, e.g. flatten) instead of the last-layer features")
    p.add_argument("--layers", nargs="*", default=None, metavar="NAME",
                   help="also NC1 and the distance ratio at these layers (module names); alone: the model's blocks")
    p.add_argument("--model-arg", action="append", type=_option, metavar="KEY=VALUE",
                   help="an option of the model's builder, repeatable (e.g. --model-arg width=512)")
    p.add_argument("--num-classes", type=int, default=None, help="outputs of the head (default: the checkpoint's)")
    p.add_argument("--data-arg", action="append", type=_option, metavar="KEY=VALUE",
                   help="an option of the data set, repeatable (e.g. --data-arg sigma2=4.0)")
    p.add_argument("--subset", type=int, default=None, help="a seeded, stratified subset of the training split")
    p.add_argument("--test-subset", type=int, default=None, help="the same for the test split")
    p.add_argument("--seed", type=int, default=0, help="seed of synthetic data, subsets, random labelings and CLP")
    p.add_argument("--normalize", choices=("auto", "none", "per_channel"), default="auto",
                   help="input normalisation (default: what the trainer does on this data set)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: $FGCORE_DEVICE, else CUDA if available)")
    p.add_argument("--batch-size", type=int, default=None, help="rows per forward pass (default 1024 CPU, 2048 GPU)")
    p.add_argument("--out", default=DEFAULT_OUT, help=f"folder (or .html file) of the page (default ./{DEFAULT_OUT})")
    p.add_argument("--json", default=None, metavar="FILE", help="also write the numbers as JSON to FILE ('-': stdout)")
    p.add_argument("--no-clp", action="store_true", help="skip t-SNE, k-means and the probes")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_run)
