"""Fill a folder with every wheel fgcore needs, for a given Python and platform: what `make wheelhouse`
runs, on a machine with internet, for a node without it (`make install WHEELS=folder` there).

    python3 tools/wheelhouse.py --dest wheelhouse [--python-version 3.12] [--platform manylinux_2_28_x86_64]
                                [--with-torch] [--extras test]

pip resolves fgcore's dependencies (with the extras) for that Python and platform, without installing
anything, and downloads each as a wheel; fgcore's own wheel and the build backend (setuptools, for the
editable install) go in too. PyTorch, torchvision and their CUDA libraries are left out unless
--with-torch: the node usually has its own CUDA build (several GB), which `make install` uses as it is.

Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TORCH_FAMILY = re.compile(r"^(torch|torchvision|triton|nvidia-.*|cuda-.*)$")
# pip matches the manylinux tag exactly: a list covers the wheels of every package fgcore needs.
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_24_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "manylinux1_x86_64"]
BUILD = ["setuptools>=68", "wheel"]


def _pip(*args: str, quiet: bool = True) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pip", *args, "--disable-pip-version-check"] + (["--quiet"] if quiet else [])
    print("+ " + " ".join(command), flush=True)
    return subprocess.run(command, text=True)


def target_options(python_version: str | None, platforms: list[str]) -> list[str]:
    if not python_version:
        return []
    options = ["--only-binary=:all:", "--python-version", python_version, "--implementation", "cp"]
    for platform in platforms:
        options += ["--platform", platform]
    return options


def resolve(dest: Path, extras: str, target: list[str]) -> list[tuple[str, str]]:
    """(name, version) of fgcore and every package it needs on the target, by pip's resolver."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        requirement = f"fgcore[{extras}]" if extras else "fgcore"
        done = _pip("install", "--dry-run", "--ignore-installed", "--report", str(report), "--find-links", str(dest),
                    "--target", str(Path(folder) / "target"), *target, requirement)
        if done.returncode:
            sys.exit("wheelhouse: pip could not resolve fgcore's dependencies for this target (above)")
        items = json.loads(report.read_text())["install"]
    return [(item["metadata"]["name"], item["metadata"]["version"]) for item in items]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", default="wheelhouse", type=Path)
    parser.add_argument("--python-version", default=None,
                        help="e.g. 3.12 (default: this python's, and its platform)")
    parser.add_argument("--platform", action="append", default=None,
                        help=f"a wheel platform tag, repeatable (default with --python-version: {PLATFORMS[0]} and "
                             f"the older manylinux tags)")
    parser.add_argument("--with-torch", action="store_true", help="also torch, torchvision and the CUDA libraries")
    parser.add_argument("--extras", default="test")
    args = parser.parse_args(argv)
    dest = args.dest.resolve()
    dest.mkdir(parents=True, exist_ok=True)
    if _pip("wheel", "--no-deps", "--wheel-dir", str(dest), str(ROOT)).returncode:
        sys.exit("wheelhouse: building fgcore's wheel failed (above)")
    target = target_options(args.python_version, args.platform or PLATFORMS)
    packages = [(n, v) for n, v in resolve(dest, args.extras, target) if n.lower() != "fgcore"]
    kept = [f"{n}=={v}" for n, v in packages if args.with_torch or not TORCH_FAMILY.match(n.lower())]
    left = sorted(n for n, _ in packages if not args.with_torch and TORCH_FAMILY.match(n.lower()))
    binary = target or ["--only-binary=:all:"]
    if _pip("download", "--no-deps", "--dest", str(dest), *binary, *kept, *BUILD).returncode:
        sys.exit("wheelhouse: downloading the wheels failed (above)")
    wheels = sorted(p.name for p in dest.glob("*.whl"))
    print(f"wheelhouse: {len(wheels)} wheels in {dest}" + (f"; left out (the node's own): {', '.join(left)}"
                                                           if left else ""))
    print(f"on the node: make install WHEELS={dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
