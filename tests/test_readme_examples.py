"""Every code block of README.md runs, as printed.

Each code block of the README (indented or fenced) carries a name, the HTML comment
`<!-- readme-example: NAME -->` on the line before it (invisible on the rendered page). BLOCKS says what
kind of block each name is, STORIES which blocks run together, in order, in one folder (the measure
command line reads the weights the Python example saved). A block without a name, a name this test does
not know, or a block that fails is a failing test.

- python: the block is a script, run with this test's Python.
- shell: the block is a bash script, one command a line; each line must exit 0 (or as EXPECTED_EXIT says).
- file: the block is a file whose first line, `# PATH`, names it; written into the folder.
- output: what a command of the story prints; each of its lines must be in what that command printed
  (a line ending in "..." is a prefix).
- fixture, layout: file formats, checked for what can be checked (the fixture loads as the experiment it
  says it is; every path of the layout exists).

Where: every story runs in a fresh temporary folder. Blocks that the README runs from the root of the
checkout run in a temporary folder that looks like one (links to the checkout's claims/, fixtures/,
Makefile, pyproject.toml and conftest.py, and a copy of reports/baseline/), so nothing is written into
the checkout. The environment: FGCORE_CACHE and HOME in the temporary folder, no other FGCORE_*
variable of the caller, this test's Python environment on PATH, the checkout on PYTHONPATH (it wins over
an installed fgcore) and OMP_NUM_THREADS=1 (on a busy 2-core machine two spinning OpenMP threads made the
measure example's 200 training steps 12x slower: 23 s against 2 s, measured).

What cannot run here as printed is listed in SUBSTITUTIONS (text replaced in every command, and why) and
EXEMPT (a command that needs hardware, a network or hours; the reason, and the cheaper command run in its
place). Both must match the README: an entry that no longer does is a failing test too.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
# The scripts of this test's Python environment (python, pytest, fgcore): what `make install` puts in .venv.
ENV_BIN = Path(sys.executable).parent
MARKER = re.compile(r"^\s*<!--\s*readme-example:\s*([\w.-]+)\s*-->\s*$")

# name -> kind of block (see the module docstring)
BLOCKS = {
    "make": "shell", "claims-tiers": "shell", "mydata": "file", "mydata-load": "shell", "cache": "shell",
    "extends": "fixture", "gpu-check": "shell", "gpu-node": "shell", "gpu-quick": "shell", "activate": "shell",
    "data-and-cache": "shell", "sweep-dry-run": "shell", "sweep-one-gpu": "shell", "sweep-nohup": "shell",
    "sweep-gpus": "shell", "slurm": "shell", "slurm-error": "output", "claims-from-cache": "shell",
    "sweep-file": "file", "own-model-net": "file", "own-model-fixture": "file", "own-model-claims": "shell",
    "metrics": "python", "measure-python": "python", "measure-cli": "shell", "compare-update": "shell",
    "layout": "layout",
}

# Text replaced in every command before it runs: (as printed, what runs, why).
SHARED_FOLDER = "/path/on/shared/filesystem"
SUBSTITUTIONS = [
    ("$REPO/.venv/bin/", f"{ENV_BIN}/", "this test's Python environment in place of the checkout's .venv"),
    (".venv/bin/", f"{ENV_BIN}/", "the same, from the root of the checkout"),
    ("PYTHONPATH=$PWD ", "PYTHONPATH=$PWD:$REPO ", "the checkout under test before any installed fgcore"),
    (SHARED_FOLDER, "$FGCORE_README_SHARED", "a folder outside /tmp: the SLURM sweep refuses a cache under "
                                              "/tmp, which is local to each node of a cluster"),
]


def collect_only(command: str) -> str:
    return f"{command} --collect-only -q"


# Commands that cannot run here: as printed (its comment left out) -> (why, what runs instead or None).
EXEMPT: dict[str, tuple[str, str | None]] = {
    "make report": ("every claim this machine can run, then the report: 20 minutes without a GPU, hours with "
                    "one", "make -n report"),
    "make test": ("the unit tests (this one among them) and the fast claims: what CI runs", "make -n test"),
    ".venv/bin/pytest claims -m fast -n 2 --dist loadgroup": (
        "the fast tier: minutes; `make test` runs it", collect_only(".venv/bin/pytest claims -m fast -n 2 --dist loadgroup")),
    ".venv/bin/pytest claims -m slow -n 2 --dist loadgroup": (
        "the slow tier: about 20 minutes on 2 cores", collect_only(".venv/bin/pytest claims -m slow -n 2 --dist loadgroup")),
    ".venv/bin/pytest claims -m gpu --fg-profile quick": (
        "needs a CUDA GPU and CIFAR-10/100", collect_only(".venv/bin/pytest claims -m gpu --fg-profile quick")),
    ".venv/bin/pytest claims -m gpu": ("needs a CUDA GPU and CIFAR-10/100; hours",
                                       collect_only(".venv/bin/pytest claims -m gpu")),
    "make gpu-check": ("installs .venv where it is missing (make's install target) and is meant for a GPU; its "
                       "dry run on the CPU is tests/test_gpu_check.py", "make -n gpu-check"),
    "make wheelhouse WHEEL_PYTHON=3.12": ("downloads every wheel fgcore needs for Python 3.12 (about 115 MB); "
                                          "tests/test_offline_install.py installs from one in CI",
                                          "make -n wheelhouse WHEEL_PYTHON=3.12"),
    "make install PYTHON=python3 WHEELS=wheelhouse": (
        "installs into .venv from a wheelhouse; tests/test_offline_install.py does it in CI from a python with "
        "torch and no index", "make -n install PYTHON=python3 WHEELS=wheelhouse"),
    "fgcore sweep --tier gpu --profile quick && pytest claims -m gpu --fg-profile quick --fg-train never "
    "--fg-report reports/gpu-quick": (
        "trains 20 runs on a GPU (40-55 minutes estimated), then every gpu claim",
        "fgcore sweep --tier gpu --profile quick --dry-run && "
        + collect_only("pytest claims -m gpu --fg-profile quick --fg-train never")),
    "fgcore data prepare cifar10": ("downloads the CIFAR-10 archive (170 MB) from the internet",
                                    "fgcore data prepare digits"),
    "fgcore sweep --tier gpu --profile quick": ("trains 20 runs on a GPU",
                                                "fgcore sweep --tier gpu --profile quick --dry-run"),
    "nohup fgcore sweep --tier gpu > sweep.log 2>&1 &": (
        "trains the paper profile's 67 runs in the background", "fgcore sweep --tier gpu --dry-run > sweep.log 2>&1"),
    "fgcore sweep --tier gpu --gpus 0,1": ("needs GPUs 0 and 1", "fgcore sweep --tier gpu --gpus 0,1 --dry-run"),
    "fgcore sweep --tier gpu --gpus 0 --workers 2": ("needs GPU 0",
                                                     "fgcore sweep --tier gpu --gpus 0 --workers 2 --dry-run"),
    "pytest claims -m gpu --fg-profile quick --fg-train never": (
        "needs the runs of a quick GPU sweep in the cache",
        collect_only("pytest claims -m gpu --fg-profile quick --fg-train never")),
    "pytest claims -m gpu --fg-train never --fg-report reports/gpu": (
        "needs the runs of a paper GPU sweep in the cache", collect_only("pytest claims -m gpu --fg-train never")),
    "$REPO/.venv/bin/pytest $REPO/claims --rootdir $PWD --fg-experiments my-model --fg-report report": (
        "fails today: the fixture has no [controls] table and the suite does not yet derive controls from the "
        "experiment itself, so each of the six coarse claims ends in 'names no control for no_collapse ...' "
        "(tests/test_own_model.py runs the same claims on an outside model with its controls named)",
        collect_only("$REPO/.venv/bin/pytest $REPO/claims --rootdir $PWD --fg-experiments my-model")),
}

# Commands that run as printed and must end with this exit status (not 0).
SLURM_SUBMIT = "fgcore sweep --tier gpu --executor slurm --partition gpu --time 12:00:00"
EXPECTED_EXIT = {SLURM_SUBMIT: 2}
# The SLURM story runs against a fake cluster: `sinfo` describes one node of 2 CPUs and 24105 MB without
# GPUs (the README's example), `sbatch` fails if anything is submitted. The submission must stop before
# sbatch with the README's error (exit 2).
FAKE_SLURM = {
    "sinfo": 'echo "debug*|2|24105|(null)|infinite"\n',
    "sbatch": 'echo "sbatch: error: this test submits nothing" >&2\nexit 1\n',
}


# -- the README's code blocks -----------------------------------------------------------------------------
@dataclass
class Block:
    name: str | None
    line: int        # line number (1-based) of the block's first line in the README
    text: str        # dedented

    @property
    def where(self) -> str:
        first = self.text.strip().splitlines()[0] if self.text.strip() else ""
        return f"README.md line {self.line} ({first[:60]!r})"


LIST_ITEM = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+")
FENCE = re.compile(r"^(\s*)(```+|~~~+)")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def code_blocks(markdown: str) -> list[Block]:
    """The code blocks of a Markdown text: fenced (``` or ~~~) and indented (four spaces more than the
    list item they sit in, after a blank line), each with the name of the marker comment above it."""
    lines = markdown.splitlines()
    blocks: list[Block] = []
    content = 0            # indentation of the content of the list item we are in (0: none)
    previous_blank = True
    i = 0

    def name_above(start: int) -> str | None:
        j = start - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        match = MARKER.match(lines[j]) if j >= 0 else None
        return match.group(1) if match else None

    while i < len(lines):
        line = lines[i]
        fence = FENCE.match(line)
        if fence and _indent(line) < content + 4:
            end = i + 1
            while end < len(lines) and not lines[end].strip().startswith(fence.group(2)):
                end += 1
            body = textwrap.dedent("\n".join(lines[i + 1:end]))
            blocks.append(Block(name_above(i), i + 2, body))
            i, previous_blank = end + 1, False
            continue
        if line.strip() and previous_blank and _indent(line) >= content + 4:
            end = i
            while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) >= content + 4):
                end += 1
            while not lines[end - 1].strip():
                end -= 1
            body = "\n".join(l[content + 4:] for l in lines[i:end])
            blocks.append(Block(name_above(i), i + 1, body + "\n"))
            i, previous_blank = end, False
            continue
        if line.strip():
            item = LIST_ITEM.match(line)
            if item:
                content = len(item.group(0))
            elif previous_blank and _indent(line) < content:
                content = 0       # a paragraph outside the list ends it
        previous_blank = not line.strip()
        i += 1
    return blocks


def readme_blocks() -> dict[str, Block]:
    return {b.name: b for b in code_blocks(README.read_text()) if b.name}


def test_the_parser_finds_indented_fenced_and_list_blocks():
    text = textwrap.dedent("""\
        Text.

        <!-- readme-example: one -->

            echo one

        1. A step:

           <!-- readme-example: two -->

               echo two
               echo three

        ```python
        print(4)
        ```

        - a list item
          with a continuation
    """)
    found = code_blocks(text)
    assert [(b.name, b.text) for b in found] == [("one", "echo one\n"), ("two", "echo two\necho three\n"),
                                                 (None, "print(4)")]


def test_every_block_of_the_readme_is_named_and_run():
    blocks = code_blocks(README.read_text())
    unnamed = [b.where for b in blocks if b.name is None]
    assert not unnamed, ("code blocks without a `<!-- readme-example: NAME -->` line above them (add one, and say "
                         f"in BLOCKS and STORIES of this test how each runs): {unnamed}")
    names = [b.name for b in blocks]
    assert len(names) == len(set(names)), f"a name is used twice: {sorted(n for n in names if names.count(n) > 1)}"
    assert set(names) == set(BLOCKS), (f"named in the README but unknown here: {sorted(set(names) - set(BLOCKS))}; "
                                       f"known here but not in the README: {sorted(set(BLOCKS) - set(names))}")
    in_stories = [name for story in STORIES.values() for name in story.blocks]
    assert sorted(in_stories) == sorted(BLOCKS), "every block belongs to exactly one story"


def _commands(block: Block) -> list[str]:
    return [command for command in (_without_comment(l) for l in block.text.splitlines()) if command]


def _without_comment(line: str) -> str:
    """The command of a line, without its trailing comment (`  # ...`) or the whole comment line."""
    stripped = line.strip()
    if stripped.startswith("#"):
        return ""
    return re.sub(r"\s+#\s.*$", "", stripped)


def test_every_exemption_and_substitution_matches_the_readme():
    blocks = readme_blocks()
    commands = {c for name, b in blocks.items() if BLOCKS.get(name) == "shell" for c in _commands(b)}
    stale = sorted(set(EXEMPT) - commands)
    assert not stale, f"EXEMPT lists commands the README no longer has: {stale}"
    assert set(EXPECTED_EXIT) <= commands, set(EXPECTED_EXIT) - commands
    text = README.read_text()
    assert all(old in text for old, _, _ in SUBSTITUTIONS), [old for old, _, _ in SUBSTITUTIONS if old not in text]


# -- running them -----------------------------------------------------------------------------------------
@dataclass
class Folder:
    """A story's folder, its environment and what its last command printed."""

    path: Path
    env: dict[str, str]
    printed: str = ""
    cleanup: list[Path] = field(default_factory=list)    # folders made outside the test's temporary folder

    def run(self, argv: list[str], what: str, timeout: int = 600) -> str:
        done = subprocess.run(argv, cwd=self.path, env=self.env, capture_output=True, text=True, timeout=timeout)
        self.printed = done.stdout + done.stderr
        assert done.returncode == 0, f"{what} failed (exit {done.returncode}):\n{self.printed[-4000:]}"
        return self.printed


def substitute(command: str) -> str:
    """SUBSTITUTIONS applied in one pass (what one put in is not replaced again), the longest first."""
    table = {old: new for old, new, _ in SUBSTITUTIONS}
    pattern = "|".join(re.escape(old) for old in sorted(table, key=len, reverse=True))
    return re.sub(pattern, lambda match: table[match.group(0)], command)


def shell_script(block: Block) -> str:
    """The block as a bash script: each command (or what EXEMPT runs in its place) followed by a check of
    its exit status that names the README's line."""
    out = []
    for command in _commands(block):
        expected = EXPECTED_EXIT.get(command, 0)
        runs = EXEMPT[command][1] if command in EXEMPT else command
        if runs is None:
            continue
        message = shlex.quote(f"{block.where}: `{command}`" + (f" (run as `{runs}`)" if runs != command else ""))
        out.append(f"{substitute(runs)}\nstatus=$?\nif [ $status -ne {expected} ]; then echo {message} "
                   f"\"exited $status, expected {expected}\" >&2; exit 1; fi")
    return "\n".join(out) + "\n"


def run_block(block: Block, kind: str, folder: Folder) -> None:
    if kind == "python":
        script = folder.path / f"readme-{block.name}.py"
        script.write_text(block.text)
        folder.run([sys.executable, script.name], block.where)
    elif kind == "shell":
        script = folder.path / f"readme-{block.name}.sh"
        script.write_text(shell_script(block))
        folder.run(["bash", script.name], block.where)
    elif kind == "file":
        first = block.text.splitlines()[0]
        assert first.startswith("# "), f"{block.where}: a file block starts with `# PATH`"
        target = folder.path / first[2:].strip()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.text)
    elif kind == "output":
        printed = [line.rstrip() for line in folder.printed.splitlines()]
        for line in block.text.rstrip().splitlines():
            line = line.rstrip()
            found = (any(p.startswith(line[:-3].rstrip()) for p in printed) if line.endswith("...")
                     else line in printed)
            assert found, f"{block.where}: the command printed no line {line!r}; it printed:\n{folder.printed[-3000:]}"
    else:
        CHECKS[kind](block, folder)


def check_fixture(block: Block, folder: Folder) -> None:
    """The extends example loads as what it says: fmnist-coarse's spec with its own weight decay, which is
    that of the repository's collapsed control on Fashion-MNIST."""
    mine = folder.path / "fixtures"
    mine.mkdir(exist_ok=True)
    (mine / "readme-extends.toml").write_text(block.text)
    folder.env["FGCORE_FIXTURES"] = os.pathsep.join([str(mine), str(REPO / "fixtures")])
    folder.run([sys.executable, "-c", textwrap.dedent("""\
        from fgcore.experiments import load_experiment
        example, base = load_experiment("readme-extends"), load_experiment("fmnist-coarse")
        control = load_experiment("fmnist-coarse-collapsed")
        assert example.extends == "fmnist-coarse" and example.tags == () and example.tier == base.tier
        assert dict(example.spec) == {**base.spec, "weight_decay": control.spec["weight_decay"]}, example.spec
        """)], block.where)


def check_layout(block: Block, folder: Folder) -> None:
    """Every path the layout names exists, and every package of fgcore is named."""
    named = set()
    for line in block.text.splitlines():
        if not line.strip() or line.startswith(" "):
            continue
        paths = [p.strip() for p in re.split(r"\s{2,}", line.strip())[0].split(",")]
        first = paths[0].rstrip("/")
        named.add(first)
        parent = str(Path(first).parent) if "/" in first else ""
        named.update(str(Path(parent) / p.rstrip("/")) for p in paths[1:])
    missing = sorted(p for p in named if not (REPO / p).exists())
    assert not missing, f"{block.where}: the layout names paths that do not exist: {missing}"
    packages = {f"fgcore/{p.name}" for p in (REPO / "fgcore").iterdir() if (p / "__init__.py").is_file()}
    assert packages <= named, f"{block.where}: packages of fgcore the layout does not name: {sorted(packages - named)}"


CHECKS: dict[str, Callable[[Block, Folder], None]] = {"fixture": check_fixture, "layout": check_layout}


# -- stories ----------------------------------------------------------------------------------------------
def checkout_like(folder: Folder) -> None:
    """The folder as the root of a checkout: links to its read-only parts, a copy of the baselines."""
    for name in ("claims", "fixtures", "Makefile", "pyproject.toml", "conftest.py"):
        (folder.path / name).symlink_to(REPO / name)
    shutil.copytree(REPO / "reports" / "baseline", folder.path / "reports" / "baseline")


def short_digits_coarse(folder: Folder) -> None:
    """`fgcore train digits-coarse` trains 150 epochs (3 minutes on a busy 2-core machine): a fixtures folder
    ahead of the repository's (FGCORE_FIXTURES: the first folder wins on a name clash) holds digits-coarse
    at 2 epochs, so the command runs as printed."""
    text = (REPO / "fixtures" / "digits-coarse.toml").read_text()
    short = re.sub(r"(?m)^epochs = \d+$", "epochs = 2", text)
    short = re.sub(r"(?m)^snapshot_epochs = \[.*\]$", "snapshot_epochs = [0, 1, 2]", short)
    assert short.count("epochs = 2\n") == 1 and "[0, 1, 2]" in short, "fixtures/digits-coarse.toml changed shape"
    (folder.path / "short-fixtures").mkdir()
    (folder.path / "short-fixtures" / "digits-coarse.toml").write_text(short)
    folder.env["FGCORE_FIXTURES"] = os.pathsep.join([str(folder.path / "short-fixtures"), str(REPO / "fixtures")])


def fake_slurm(folder: Folder) -> None:
    bin_dir = folder.path / "fake-slurm-bin"
    bin_dir.mkdir()
    for name, body in FAKE_SLURM.items():
        (bin_dir / name).write_text("#!/bin/sh\n" + body)
        (bin_dir / name).chmod(0o755)
    folder.env["PATH"] = f"{bin_dir}{os.pathsep}{folder.env['PATH']}"
    home = Path.home()
    if any(str(home).startswith(local) for local in ("/tmp", "/var/tmp", "/dev/shm")):
        pytest.skip(f"the home folder {home} is node-local: there is no folder outside /tmp to stand in for the "
                    "shared filesystem of the SLURM example")
    shared = Path(tempfile.mkdtemp(prefix="fgcore-readme-shared-", dir=home))
    folder.env["FGCORE_README_SHARED"] = str(shared)
    folder.cleanup.append(shared)


def compare_inputs(folder: Folder) -> None:
    """The fast tier's claims.json that `make test` writes: here a copy of the baseline (the command then
    updates the folder's copy of the baseline, not the checkout's)."""
    (folder.path / "reports" / "fast").mkdir(parents=True)
    shutil.copy(REPO / "reports" / "baseline" / "fast.json", folder.path / "reports" / "fast" / "claims.json")


def after_cache(folder: Folder) -> None:
    assert re.search(r"complete .* digits/coarse:5/mlp .*epochs=2 ", folder.run(
        [str(ENV_BIN / "fgcore"), "cache", "ls"], "fgcore cache ls")), folder.printed


def after_mydata(folder: Folder) -> None:
    assert "Dataset('mydata', split='train', n=400" in folder.printed, folder.printed


def after_own_model(folder: Folder) -> None:
    """mynet.py builds a network with .features and .head; the collection finds the six coarse claims of
    my-model."""
    assert len(re.findall(r"\[my-model\]", folder.printed)) == 6, folder.printed[-3000:]
    folder.run([sys.executable, "-c", textwrap.dedent("""\
        import torch, mynet
        net = mynet.build(5, (1, 8, 8), width=128)
        x = torch.zeros(4, 1, 8, 8)
        assert net.features(x).shape == (4, 128) and net.head(net.features(x)).shape == net(x).shape == (4, 5)
        """)], "mynet.py")


def after_measure(folder: Folder) -> None:
    import json

    record = json.loads((folder.path / "tiny_net" / "measurement.json").read_text())
    assert record["numbers"]["cluster_acc"] is not None and record["discovery"]["per_superclass"]
    assert (folder.path / "tiny_net.html").is_file() and (folder.path / "fgcore-measure" / "index.html").is_file()


def after_metrics(folder: Folder) -> None:
    lines = folder.printed.strip().splitlines()[-3:]
    assert len(lines) == 3 and all(float(v) >= 0 for line in lines for v in line.split()), folder.printed


def after_sweep_file(folder: Folder) -> None:
    folder.run([sys.executable, "-c", textwrap.dedent("""\
        from fgcore.sweep.plan import load_sweep_file
        sweep = load_sweep_file("grid.toml")
        assert sweep.profile == "paper" and sweep.seeds == (0, 1, 2), sweep
        assert "resnet18-wd1e-3" in [e.name for e in sweep.experiments]
        assert sweep.slurm["partition"] == "gpu" and sweep.slurm["setup"] == ["module load cuda"], sweep.slurm
        """)], "grid.toml")
    folder.run([str(ENV_BIN / "fgcore"), "sweep", "grid.toml", "--dry-run"], "fgcore sweep grid.toml --dry-run")


@dataclass
class Story:
    blocks: list[str]
    checkout: bool = False                            # run from a folder that looks like the checkout's root
    setup: list[Callable[[Folder], None]] = field(default_factory=list)
    after: Callable[[Folder], None] | None = None


STORIES = {
    "make": Story(["make"], checkout=True),
    "claims-tiers": Story(["claims-tiers"], checkout=True),
    "mydata": Story(["mydata", "mydata-load"], after=after_mydata),
    "cache": Story(["cache"], checkout=True, setup=[short_digits_coarse], after=after_cache),
    "extends": Story(["extends"]),
    "gpu": Story(["gpu-check", "gpu-node", "gpu-quick"], checkout=True),
    "activate": Story(["activate"]),
    "data-and-cache": Story(["data-and-cache"]),
    "sweep-local": Story(["sweep-dry-run", "sweep-one-gpu", "sweep-nohup", "sweep-gpus"], checkout=True),
    "slurm": Story(["slurm", "slurm-error"], checkout=True, setup=[fake_slurm]),
    "claims-from-cache": Story(["claims-from-cache"], checkout=True),
    "sweep-file": Story(["sweep-file"], checkout=True, after=after_sweep_file),
    "own-model": Story(["own-model-net", "own-model-fixture", "own-model-claims"], after=after_own_model),
    "metrics": Story(["metrics"], after=after_metrics),
    "measure": Story(["measure-python", "measure-cli"], after=after_measure),
    "compare-update": Story(["compare-update"], checkout=True, setup=[compare_inputs]),
    "layout": Story(["layout"]),
}


def environment(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FGCORE_")}
    (folder / "home").mkdir()
    env.update(HOME=str(folder / "home"), FGCORE_CACHE=str(folder / "cache"), PYTHONPATH=str(REPO),
               PATH=f"{ENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}", OMP_NUM_THREADS="1", REPO=str(REPO),
               MPLBACKEND="Agg")
    return env


@pytest.mark.parametrize("story", sorted(STORIES))
def test_the_readme_example_runs_as_printed(story, tmp_path):
    blocks = readme_blocks()
    plan = STORIES[story]
    folder = Folder(tmp_path / "here", environment(tmp_path))
    folder.path.mkdir()
    try:
        if plan.checkout:
            checkout_like(folder)
        for setup in plan.setup:
            setup(folder)
        for name in plan.blocks:
            assert name in blocks, f"the README has no block named {name!r}"
            run_block(blocks[name], BLOCKS[name], folder)
        if plan.after:
            plan.after(folder)
    finally:
        for path in folder.cleanup:
            shutil.rmtree(path, ignore_errors=True)
