"""`make install` on a GPU node without a package index, whose python already has PyTorch.

The node is simulated here by a python that has torch (and torch's own dependencies) and nothing
else: a venv whose site folder names, through a .pth file, a folder holding only the torch family of
this test's python (as a cluster's torch module or a vendor image would). pip is cut off from every
index (PIP_NO_INDEX, no pip configuration). Then:

- with a wheelhouse (`make wheelhouse`, FGCORE_WHEELHOUSE), `make install WHEELS=...` installs fgcore
  and every other dependency from it, keeps the node's torch, and `make gpu-check` runs its dry run;
- without one, fgcore alone is installed and each missing dependency is named with its `pip install`.

The wheelhouse is built by CI (.ci/run, which has PyPI); elsewhere the first test skips with the reason
(FGCORE_REQUIRE_WHEELHOUSE=1 makes that a failure).
"""

from __future__ import annotations

import importlib.metadata as metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _closure(names: list[str]) -> set[str]:
    """These distributions and everything they require (markers ignored; of the extras, only CUDA's
    libraries, which a node's torch always has)."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        key = dist.metadata["Name"].lower()
        if key in seen:
            continue
        seen.add(key)
        for requirement in dist.requires or []:
            name = re.split(r"[ ;<>=!~\[(]", requirement, maxsplit=1)[0]
            if "extra ==" not in requirement or name.startswith(("nvidia-", "cuda-")):
                todo.append(name)
    return seen


def node_python(folder: Path) -> Path:
    """A python that has torch and torchvision (with torch's own dependencies) and no other package."""
    site = folder / "torch-site"
    site.mkdir(parents=True)
    for name in _closure(["torch"]) | {"torchvision"}:
        dist = metadata.distribution(name)
        tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        for top in tops:
            source = Path(dist.locate_file(top))
            if source.exists() and not (site / top).exists() and top != "bin":
                (site / top).symlink_to(source)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder / "node")], check=True)
    python = folder / "node" / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "torch-module.pth").write_text(f"{site}\n")
    # pip and setuptools from this python's own files: a node's python has both.
    for name in ("pip", "setuptools"):
        dist = metadata.distribution(name)
        for top in {Path(str(f)).parts[0] for f in dist.files or []}:
            source = Path(dist.locate_file(top))
            if source.exists() and not Path(purelib, top).exists():
                Path(purelib, top).symlink_to(source)
    return python


def offline_environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUAL_ENV", "PYTHONPATH"))}
    env.update(PIP_NO_INDEX="1", PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1",
               FGCORE_CACHE=str(tmp_path / "cache"))
    return env


def make(*args: str, env: dict[str, str], timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-C", str(ROOT), *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def node(tmp_path):
    pytest.importorskip("torch")
    return node_python(tmp_path)


def test_the_node_python_has_torch_and_nothing_else(node):
    probe = "import torch, importlib.util as u; print(torch.__version__, u.find_spec('numpy') is None)"
    done = subprocess.run([str(node), "-c", probe], capture_output=True, text=True, check=True)
    version, no_numpy = done.stdout.split()
    assert version.split("+")[0] == metadata.version("torch").split("+")[0] and no_numpy == "True"


def test_make_install_from_a_wheelhouse_without_an_index_then_gpu_check(node, tmp_path):
    wheels = os.environ.get("FGCORE_WHEELHOUSE")
    if not wheels or not Path(wheels).is_dir():
        message = "FGCORE_WHEELHOUSE names no folder (`make wheelhouse WHEELHOUSE=...` fills one; CI does)"
        if os.environ.get("FGCORE_REQUIRE_WHEELHOUSE") == "1":
            pytest.fail(message)
        pytest.skip(message)
    env = offline_environment(tmp_path)
    venv = tmp_path / "venv"
    done = make("install", f"PYTHON={node}", f"VENV={venv}", f"WHEELS={wheels}", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "uses torch" in done.stdout and "--no-index" in done.stdout
    python = venv / "bin" / "python"
    modules = ("torch", "fgcore", "sklearn", "openTSNE", "safetensors", "matplotlib", "submitit")
    probe = f"import importlib; print(*[importlib.import_module(m).__file__ for m in {modules!r}])"
    where = dict(zip(modules, subprocess.run([str(python), "-c", probe], capture_output=True, text=True, env=env,
                                             check=True).stdout.split()))
    assert "torch-site" in where["torch"]                 # the node's torch, not another one
    assert Path(where["fgcore"]).parent.parent == ROOT    # fgcore from this checkout (editable)
    # what the machine's own python lacks came from the wheelhouse, into the venv
    base = subprocess.run([os.path.join(sys.base_prefix, "bin", "python3"), "-c",
                           f"import importlib.util as u; print(*[u.find_spec(m) is None for m in {modules[2:]!r}])"],
                          capture_output=True, text=True, check=True).stdout.split()
    from_wheels = [m for m, absent in zip(modules[2:], base) if absent == "True"]
    assert from_wheels and all(str(venv) in where[m] for m in from_wheels), (from_wheels, where)
    done = make("gpu-check", f"VENV={venv}", "GPU_CHECK_ARGS=--dry-run --checks-only", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "gpu-check: all checks hold" in done.stdout


def test_without_wheels_and_index_fgcore_alone_is_installed_and_what_is_missing_is_named(node, tmp_path):
    """What the node lacks is named, each with its `pip install` and what it is needed for; with a core
    dependency missing the install fails and says how to bring it (a wheelhouse)."""
    sys.path.insert(0, str(ROOT / "tools"))
    import make_venv

    env = offline_environment(tmp_path)
    venv = tmp_path / "venv"
    done = make("install", f"PYTHON={node}", f"VENV={venv}", env=env, timeout=300)
    out = done.stdout + done.stderr
    assert "no package index answers" in out and "--no-build-isolation --no-deps" in out
    python = str(venv / "bin" / "python")
    located = subprocess.run([python, "-c", "import fgcore; print(fgcore.__file__)"], capture_output=True,
                             text=True, env=env, check=True).stdout.strip()
    assert Path(located).parent.parent == ROOT
    named = dict(re.findall(r"make_venv: missing (\S+): pip install \1 \(needed for (.+)\)", out))
    assert set(named) == set(make_venv.missing_dependencies(python, "test"))   # all of them, and only them
    core = [name for name, why in named.items() if why.startswith("the core of fgcore")]
    assert core == [n for n in named if n.lower() not in make_venv.NEEDED_FOR]
    if core:
        assert done.returncode != 0 and "make wheelhouse" in out and ", ".join(core) in out
    else:
        assert done.returncode == 0
