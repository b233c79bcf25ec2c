"""Create the project's virtual environment and install fgcore into it: what `make install` runs.

    python3 tools/make_venv.py --venv .venv [--wheels DIR] [--extras test]

Three machines, one command:

- A laptop or CI with a package index: a fresh venv, then `pip install -e '.[test]'`.
- A GPU node whose python already has PyTorch (a cluster module, a vendor image): the venv sees that
  python's packages (`--system-site-packages`, and a .pth file naming its site-packages when that
  python is itself a venv, which --system-site-packages alone would skip), so its CUDA build of torch
  is used as it is and never downloaded again.
- A node without a package index (no internet): with `--wheels DIR` (a folder `make wheelhouse` filled
  on a machine with internet) pip installs from it alone; without one, fgcore itself is installed
  with `--no-index --no-build-isolation --no-deps`, and every dependency the node lacks is listed
  with what it is needed for and the command that adds it.

Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_INDEX = "https://pypi.org/simple/"

# What each dependency is needed for where it may be missing on a node without an index: the core
# (nothing runs without it) or one feature, with what happens without it.
NEEDED_FOR = {
    "opentsne": "t-SNE in CLP and the figures (without it: scikit-learn's t-SNE, slower, other numbers)",
    "submitit": "fgcore sweep --executor slurm (the local executor works without it)",
    "pytest": "make test and the claims", "pytest-xdist": "make test (-n)", "hypothesis": "the unit tests",
    "pytest-benchmark": "make bench", "pytest-html": "make report's pytest.html",
    "selenium": "the browser test of the report (it skips without it)",
}


# The folders of a python's packages (its sys.path without the standard library), for a .pth file: site
# folders and what their own .pth files add, which a .pth file naming the site folder alone would miss.
BASE_PATHS = """
import sys, sysconfig
if sys.prefix != sys.base_prefix:
    std = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib")}
    for p in sys.path:
        if p and not p.endswith(".zip") and ("site-packages" in p or not any(p.startswith(s) for s in std)):
            print(p)
"""


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    print("+ " + " ".join(command), flush=True)
    return subprocess.run(command, **kwargs)


def _probe(python: str, code: str) -> str | None:
    done = subprocess.run([python, "-c", code], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def base_with_torch(python: str) -> str | None:
    """torch's version if `python` can import it (without importing it: a CUDA torch takes seconds)."""
    return _probe(python, "import importlib.metadata as m, importlib.util as u; "
                          "print(m.version('torch') if u.find_spec('torch') else '')") or None


def create(python: str, venv: Path) -> None:
    """A venv at `venv` from `python`; one that sees `python`'s packages when it has torch."""
    torch = base_with_torch(python)
    command = [python, "-m", "venv", str(venv)]
    if torch:
        command.insert(3, "--system-site-packages")
    if _run(command).returncode:
        sys.exit(f"make_venv: `{' '.join(command)}` failed; is the python's venv module installed "
                 f"(Debian: apt-get install python3-venv)?")
    if not torch:
        return
    paths = _probe(python, BASE_PATHS)
    if paths:   # `python` is a venv itself: --system-site-packages would show its base, not its packages
        site_packages = _probe(str(venv_python(venv)), "import sysconfig; print(sysconfig.get_paths()['purelib'])")
        Path(site_packages, "_fgcore_base_python.pth").write_text(paths + "\n")
    print(f"make_venv: {venv} uses torch {torch} of {python} (its packages are visible there)")


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def index_answers(python: str, timeout: float = 5.0) -> bool:
    """Whether pip's index can be reached (PIP_NO_INDEX and pip's own configuration respected)."""
    if os.environ.get("PIP_NO_INDEX", "").lower() in ("1", "true", "yes", "on"):
        return False
    url = _probe(python, "import subprocess, sys; print(subprocess.run([sys.executable, '-m', 'pip', 'config', "
                         "'get', 'global.index-url'], capture_output=True, text=True).stdout.strip())")
    url = os.environ.get("PIP_INDEX_URL") or url or DEFAULT_INDEX
    if url.startswith("file:"):
        return True
    try:
        urllib.request.urlopen(urllib.request.Request(url.rstrip("/") + "/pip/", method="HEAD"), timeout=timeout)
    except urllib.error.HTTPError:
        return True          # the index answered (e.g. 404 for a mirror's layout)
    except (OSError, ValueError):
        return False
    return True


def requirements(extras: str) -> list[str]:
    """fgcore's requirements from pyproject.toml (with `extras`), markers dropped where they fail here."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the list is simple enough to read without a TOML parser
        tomllib = None
    text = (ROOT / "pyproject.toml").read_text()
    if tomllib is not None:
        project = tomllib.loads(text)["project"]
        listed = list(project["dependencies"])
        for extra in filter(None, extras.split(",")):
            listed += project.get("optional-dependencies", {}).get(extra, [])
    else:
        listed = re.findall(r'^\s+"([^"]+)",?\s*$', text, flags=re.M)
    kept = []
    for requirement in listed:
        marker = requirement.split(";", 1)[1] if ";" in requirement else None
        if marker and "python_version <" in marker:
            version = marker.split("<", 1)[1].strip().strip("'\"")
            if sys.version_info[:2] >= tuple(int(v) for v in version.split(".")):
                continue
        kept.append(re.split(r"[ ;<>=!~\[]", requirement, maxsplit=1)[0])
    return kept


def missing_dependencies(python: str, extras: str) -> list[str]:
    """fgcore's requirements (with `extras`) that `python` has no distribution of, by name."""
    names = requirements(extras)
    code = ("import importlib.metadata as m, sys\n"
            "for name in sys.argv[1:]:\n"
            "    try: m.version(name)\n"
            "    except m.PackageNotFoundError: print(name)\n")
    done = subprocess.run([python, "-c", code, *names], capture_output=True, text=True)
    return done.stdout.split()


def link_checkout(venv: Path) -> None:
    """fgcore importable from the checkout through a .pth file: the install of last resort, without a
    build backend (`python -m fgcore` works; the `fgcore` command and the pytest entry point do not, and
    conftest.py registers the claims plugin instead)."""
    site_packages = _probe(str(venv_python(venv)), "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    Path(site_packages, "_fgcore_checkout.pth").write_text(f"{ROOT}\n")
    print(f"make_venv: fgcore is importable from {ROOT} through a .pth file (no build backend without an index: "
          f"use `python -m fgcore`)")


def install(venv: Path, wheels: str | None, extras: str) -> None:
    py = str(venv_python(venv))
    target = f"{ROOT}[{extras}]" if extras else str(ROOT)
    pip = [py, "-m", "pip", "install", "--disable-pip-version-check"]
    if wheels:
        folder = Path(wheels).expanduser().resolve()
        if not folder.is_dir():
            sys.exit(f"make_venv: WHEELS={wheels} is not a folder; fill one with `make wheelhouse` on a machine "
                     f"with internet")
        if _run(pip + ["--no-index", "--find-links", str(folder), "-e", target]).returncode:
            sys.exit(f"make_venv: installing from {folder} without an index failed (above): the folder lacks a "
                     f"wheel for this python ({sys.version_info.major}.{sys.version_info.minor}) or platform; "
                     f"rebuild it with `make wheelhouse WHEEL_PYTHON=...`")
        return
    if index_answers(py):
        if _run(pip + ["--quiet", "-e", target]).returncode:
            sys.exit("make_venv: pip install failed (above)")
        return
    print("make_venv: no package index answers: installing fgcore alone (--no-index --no-build-isolation "
          "--no-deps), with the packages this python already has", flush=True)
    if _run(pip + ["--no-index", "--no-build-isolation", "--no-deps", "-e", str(ROOT)]).returncode:
        print("make_venv: pip could not build fgcore with this python's setuptools (above)")
        link_checkout(venv)
    missing = missing_dependencies(py, extras)
    for name in missing:
        why = NEEDED_FOR.get(name.lower(), "the core of fgcore: nothing runs without it")
        print(f"make_venv: missing {name}: pip install {name} (needed for {why})")
    core = [n for n in missing if n.lower() not in NEEDED_FOR]
    if core:
        sys.exit(f"make_venv: fgcore cannot run without {', '.join(core)}: bring them as wheels "
                 f"(`make wheelhouse` on a machine with internet, then `make install WHEELS=folder`)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", default=".venv", type=Path)
    parser.add_argument("--wheels", default=None, help="install from this folder only (no index)")
    parser.add_argument("--extras", default="test", help="extras of fgcore to install (default: test)")
    args = parser.parse_args(argv)
    if not venv_python(args.venv).exists():
        create(sys.executable, args.venv)
    install(args.venv, args.wheels or None, args.extras)
    return 0


if __name__ == "__main__":
    sys.exit(main())
