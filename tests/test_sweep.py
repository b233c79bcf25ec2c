"""fgcore sweep: planning (dedup, skip cached, sweep files), the local and submitit-local executors on
tiny runs, a failing run, a second sweep that trains nothing, the slurm folder checks, GPU pinning,
and `pytest --fg-train never` reading a cache that a sweep filled."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shlex
import subprocess
import textwrap
from pathlib import Path

import filelock
import pytest

from fgcore.cli import build_parser, main
from fgcore.machine import pin_xdist_worker_to_gpu, visible_gpus
from fgcore.sweep import sweep_command
from fgcore.sweep.plan import load_sweep_file, plan_sweep
from fgcore.sweep.progress import MAX_EXIT_CODE, SweepResult
from fgcore.sweep.slurm import SlurmOptions, check_shared_dirs, parse_sbatch, parse_time

pytest_plugins = ("pytester",)

TINY_SPEC = (Path(__file__).parent / "data" / "tiny_run_spec.toml").read_text()
FIXTURES = {
    # two runs (a grid over weight decay)
    "tiny-a": f'tier = "fast"\ntags = ["sweeptest"]\n[spec]\n{TINY_SPEC}[grid]\nweight_decay = [5e-4, 5e-3]\n',
    # the same run as tiny-a's second grid point: a sweep of both trains it once
    "tiny-b": f'tier = "fast"\ntags = ["sweeptest"]\n[spec]\n{TINY_SPEC}weight_decay = 5e-3\n'
              f'[profiles.quick]\nspec = {{ epochs = 2 }}\n',
    # fails when training starts: its model is an import path that does not import
    "broken": 'tier = "fast"\ntags = ["sweeptest"]\n[spec]\n'
              + TINY_SPEC.replace('model = "mlp"', 'model = "fgcore_no_such_module.nets:build"'),
}


def write_fixtures(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in FIXTURES.items():
        (folder / f"{name}.toml").write_text(text)
    return folder


def cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


@pytest.fixture
def fixtures(tmp_path, monkeypatch):
    folder = write_fixtures(tmp_path / "fixtures")
    monkeypatch.setenv("FGCORE_FIXTURES", str(folder))
    return folder


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory):
    """One local sweep of tiny-a (2 runs), tiny-b (shares one) and broken, on 2 worker processes.

    Under pytest-xdist the workers share it (a file lock and a result file in the session's common
    temporary folder), so the sweep runs once however the tests are distributed.
    """
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "fgcore-local-sweep"
    root.mkdir(exist_ok=True)
    with filelock.FileLock(str(root) + ".lock"):
        saved = root / "result.json"
        if not saved.exists():
            folder = write_fixtures(root / "fixtures")
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("FGCORE_FIXTURES", str(folder))
                code, out = cli("sweep", "tiny-a", "tiny-b", "broken", "--cache", str(root / "cache"),
                                "--workers", "2", "--gpus", "none", "--no-bar")
            saved.write_text(json.dumps({"code": code, "out": out}))
        result = json.loads(saved.read_text())
    return {**result, "cache": root / "cache", "fixtures": root / "fixtures"}


# -- planning ----------------------------------------------------------------------------------------
def test_plan_deduplicates_shared_runs_and_is_deterministic(fixtures, tmp_path):
    plan = plan_sweep(["tiny-a", "tiny-b"], cache=tmp_path / "cache", profile="paper")
    assert plan.requested == 3 and len(plan.runs) == 2 and len(plan.todo) == 2 and not plan.complete
    shared = next(r for r in plan.runs if r.spec.weight_decay == 5e-3)
    assert shared.sources == ("tiny-a[weight_decay=0.005]", "tiny-b")
    again = plan_sweep(["tiny-b", "tiny-a"], cache=tmp_path / "cache", profile="paper")
    assert again.sweep_id.split("-")[-1] == plan.sweep_id.split("-")[-1]  # same runs, same log folder hash
    assert "1 requested more than once" in plan.summary()


def test_profile_and_seeds_change_the_runs(fixtures, tmp_path):
    quick = plan_sweep(["tiny-b"], cache=tmp_path, profile="quick")
    assert [r.spec.epochs for r in quick.runs] == [2]
    seeds = plan_sweep(["tiny-b"], cache=tmp_path, profile="paper", seeds=[0, 1])
    assert sorted(r.spec.seed for r in seeds.runs) == [0, 10_000] and len({r.key for r in seeds.runs}) == 2


def test_sweep_file_with_names_inline_experiment_and_slurm_defaults(fixtures, tmp_path):
    grid = tmp_path / "grid.toml"
    grid.write_text(textwrap.dedent("""\
        profile = "quick"
        seeds = [3]
        experiments = ["tiny-b"]

        [[experiment]]
        name = "inline-wide"
        spec = { dataset = "gaussian_mixture", data_args = { dim = 8, n_per_class = 20 }, model = "mlp", model_args = { width = 32 }, epochs = 2 }
        grid = { lr = [0.01, 0.02] }

        [slurm]
        partition = "gpu"
        time = "2:00:00"
        """))
    parsed = load_sweep_file(grid)
    assert parsed.profile == "quick" and parsed.seeds == (3,) and parsed.slurm["partition"] == "gpu"
    plan = plan_sweep([str(grid)], cache=tmp_path / "cache")
    assert plan.profile == "quick" and plan.seeds == (3,)
    assert sorted(r.sources[0] for r in plan.runs) == ["inline-wide[lr=0.01]", "inline-wide[lr=0.02]", "tiny-b"]
    assert all(r.spec.seed == 3 * 10_000 for r in plan.runs)  # base seed 3 (experiments.BASE_SEED_STRIDE)
    options = SlurmOptions().updated(plan.slurm_defaults, "sweep file")
    assert options.partition == "gpu" and parse_time(options.time) == 120


@pytest.mark.parametrize("text, message", [
    ('experiments = ["tiny-a"]\nprofle = "quick"\n', "unknown key(s) profle"),
    ('experiments = ["no-such-experiment"]\n', "unknown experiment 'no-such-experiment'"),
    ('description = "nothing"\n', "names no runs"),
    ('[[experiment]]\nname = "x"\nspec = { dataset = "gaussian_mixture", epochs = 0 }\n', "epochs"),
])
def test_bad_sweep_files_say_what_is_wrong(fixtures, tmp_path, text, message):
    grid = tmp_path / "grid.toml"
    grid.write_text(text)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        plan_sweep([str(grid)], cache=tmp_path / "cache")


def test_nothing_named_is_an_error(fixtures, tmp_path):
    code, _ = cli("sweep", "--cache", str(tmp_path))
    assert code == 2


# -- the local executor ------------------------------------------------------------------------------
def test_local_sweep_trains_the_runs_and_reports_the_failure_with_its_log(local_sweep, monkeypatch):
    monkeypatch.setenv("FGCORE_FIXTURES", str(local_sweep["fixtures"]))
    out, cache = local_sweep["out"], local_sweep["cache"]
    assert local_sweep["code"] == 1, out  # exit code = number of failed runs
    assert "3 distinct run(s) (1 requested more than once)" in out
    assert out.count(" finished  ") == 2 and out.count(" started   ") == 3
    failed = [line for line in out.splitlines() if " FAILED " in line]
    assert len(failed) == 1 and "fgcore_no_such_module" in failed[0]
    log = Path(failed[0].rsplit("log: ", 1)[1])
    assert log.is_file() and log.parent.parent == cache / "sweeps"
    assert "cannot import module 'fgcore_no_such_module.nets'" in log.read_text()
    assert "cannot import module" in out  # the reason is on the terminal too, not only in the log
    plan = plan_sweep(["tiny-a", "tiny-b", "broken"], cache=cache, profile="paper")
    complete = {r.sources[0].split("[")[0] for r in plan.complete}
    assert len(plan.complete) == 2 and complete == {"tiny-a"} and [r.sources for r in plan.todo] == [("broken",)]
    for run in plan.complete:  # a log per run, next to the others
        assert "done in" in plan.log_path(run).read_text()


def test_second_sweep_trains_nothing(local_sweep, monkeypatch):
    monkeypatch.setenv("FGCORE_FIXTURES", str(local_sweep["fixtures"]))

    def no_training(*args, **kwargs):
        raise AssertionError("the second sweep started a worker process")

    monkeypatch.setattr(subprocess, "Popen", no_training)
    code, out = cli("sweep", "tiny-a", "tiny-b", "--cache", str(local_sweep["cache"]), "--no-bar")
    assert code == 0 and "2 already complete" in out and "nothing to do" in out


def test_dry_run_lists_states_and_starts_nothing(local_sweep, monkeypatch):
    monkeypatch.setenv("FGCORE_FIXTURES", str(local_sweep["fixtures"]))
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: pytest.fail("a dry run started a process"))
    code, out = cli("sweep", "tiny-a", "broken", "--cache", str(local_sweep["cache"]), "--dry-run",
                    "--gpus", "none")
    assert code == 0
    states = {line.split()[1] for line in out.splitlines() if line.startswith("  ")}
    assert states == {"complete", "partial"}  # broken started (its entry folder exists) but never finished
    assert "would run 1 run(s) on 1 worker(s) (CPU; no GPU)" in out


def test_exit_code_is_capped(tmp_path):
    from fgcore.sweep.progress import RunOutcome

    result = SweepResult(plan=None, executor="local")  # type: ignore[arg-type]
    result.outcomes = [RunOutcome(run=None, ok=False, seconds=0, log=None) for _ in range(150)]  # type: ignore
    assert result.exit_code == MAX_EXIT_CODE


# -- submitit (the slurm code path, through submitit's local executor) -------------------------------
def test_submitit_local_executor_runs_the_same_sweep(fixtures, tmp_path):
    cache = tmp_path / "cache"
    code, out = cli("sweep", "tiny-a", "--executor", "submitit-local", "--cache", str(cache), "--no-bar",
                    "--time", "10")
    assert code == 0, out
    assert "submitit-local: submitted job(s)" in out and out.count(" finished  ") == 2
    plan = plan_sweep(["tiny-a"], cache=cache, profile="paper")
    assert len(plan.complete) == 2 and not plan.todo
    for run in plan.runs:  # each run's job is recorded (a later sweep follows it instead of resubmitting)
        record = json.loads((cache / "sweeps" / "jobs" / f"{run.key}.json").read_text())
        assert record["cluster"] == "local" and record["job_id"]
        assert list(Path(record["folder"]).glob(f"{record['job_id']}_0_log.out"))


def test_slurm_folders_must_be_shared_existing_and_writable(tmp_path):
    with pytest.raises(ValueError, match="local to each node"):
        check_shared_dirs({"the cache root": tmp_path}, temp=(tmp_path.parent,))
    with pytest.raises(ValueError, match="does not exist; create it with `mkdir -p"):
        check_shared_dirs({"the cache root": tmp_path / "missing"}, temp=())
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="is not a folder"):
        check_shared_dirs({"the cache root": tmp_path / "file"}, temp=())
    check_shared_dirs({"the cache root": tmp_path, "job folder": tmp_path / "jobs"}, create=("job folder",), temp=())
    assert (tmp_path / "jobs").is_dir()


def test_slurm_executor_refuses_without_sbatch_or_with_a_tmp_cache(fixtures, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    code, _ = cli("sweep", "tiny-a", "--executor", "slurm", "--cache", str(tmp_path), "--no-bar")
    assert code == 2 and "sbatch is not on PATH" in capsys.readouterr().err  # nothing submitted
    dry_run = ("sweep", "tiny-a", "--executor", "slurm", "--cache", str(tmp_path), "--dry-run",
               "--partition", "gpu", "--sbatch", "account=abc", "--time", "1-00:00:00")
    code, _ = cli(*dry_run)
    assert code == 2 and "local to each node" in capsys.readouterr().err  # tmp_path is under /tmp
    monkeypatch.setattr("fgcore.sweep.slurm.temp_roots", lambda: ())  # as if tmp_path were shared
    code, out = cli(*dry_run)
    assert code == 0 and "partition gpu" in out and "account=abc" in out and "(1440 min)" in out


def _fake_slurm(folder: Path, state: str) -> Path:
    """sbatch / srun / squeue / sacct stand-ins: sbatch records its calls and answers with job 4242;
    squeue lists both tasks in `state`, sacct says accounting is disabled (as on a small cluster)."""
    folder.mkdir()
    calls = folder / "sbatch-calls"
    scripts = {
        "sbatch": f'#!/bin/sh\necho "$@" >> "{calls}"\necho "Submitted batch job 4242"\n',
        "srun": "#!/bin/sh\nexit 0\n",
        "squeue": f"#!/bin/sh\nprintf '4242_0|{state}|2024-05-01T12:00:00\\n4242_1|{state}|2024-05-01T12:00:01\\n'\n",
        "sacct": "#!/bin/sh\necho 'sacct: error: Slurm accounting storage is disabled' >&2\nexit 1\n",
        "sinfo": "#!/bin/sh\necho 'debug*|8|64000|gpu:2|infinite'\n",
    }
    for name, text in scripts.items():
        (folder / name).write_text(text)
        (folder / name).chmod(0o755)
    return calls


def test_slurm_submits_one_array_and_a_second_sweep_follows_it_instead_of_resubmitting(fixtures, tmp_path,
                                                                                      monkeypatch):
    calls = _fake_slurm(tmp_path / "bin", "RUNNING")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    monkeypatch.setattr("fgcore.sweep.slurm.temp_roots", lambda: ())  # as if tmp_path were shared
    cache = tmp_path / "cache"
    cache.mkdir()
    command = ("sweep", "tiny-a", "--executor", "slurm", "--cache", str(cache), "--no-wait", "--no-bar",
               "--partition", "gpu", "--time", "2:00:00", "--sbatch", "account=abc", "--setup", "module load cuda")
    code, out = cli(*command)
    assert code == 0 and "slurm: submitted job array 4242 (2 tasks)" in out, out
    assert len(calls.read_text().splitlines()) == 1  # one sbatch call: an array, not two jobs
    script = next((cache / "sweeps").glob("*/submitit/4242_submission.sh")).read_text()
    for line in ("#SBATCH --partition=gpu", "#SBATCH --time=120", "#SBATCH --array=0-1%2",
                 "#SBATCH --gpus-per-node=1", "#SBATCH --account=abc", "#SBATCH --mem=32G", "module load cuda",
                 "export PYTHONPATH="):
        assert line in script, line
    code, out = cli(*command)  # e.g. after a logout: the jobs are still RUNNING, so nothing is resubmitted
    assert code == 0 and "following 2 run(s) already queued or running: jobs 4242_0, 4242_1" in out, out
    assert len(calls.read_text().splitlines()) == 1


def test_slurm_option_parsing():
    assert parse_time("12:00:00") == 720 and parse_time("1-02:30") == 1590 and parse_time(90) == 90
    assert parse_time("30:30") == 31
    assert parse_sbatch(["--account=abc", "qos=high", "--exclusive"]) == {"account": "abc", "qos": "high",
                                                                          "exclusive": True}
    with pytest.raises(ValueError, match="SLURM time"):
        parse_time("12h")
    with pytest.raises(ValueError, match="memory size"):
        SlurmOptions(mem="lots")
    with pytest.raises(ValueError, match="unknown slurm option"):
        SlurmOptions().updated({"partion": "gpu"}, "sweep file")


# -- GPUs ---------------------------------------------------------------------------------------------
def test_visible_gpus_follow_cuda_visible_devices():
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "2,3"}) == ["2", "3"]
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": ""}) == []
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "1,-1,2"}) == ["1"]  # CUDA stops at an invalid id


def test_xdist_workers_each_see_one_gpu():
    seen = []
    for worker in ("gw0", "gw1", "gw2"):
        env = {"PYTEST_XDIST_WORKER": worker, "CUDA_VISIBLE_DEVICES": "4,5"}
        assert pin_xdist_worker_to_gpu(env) == env["CUDA_VISIBLE_DEVICES"]
        seen.append(env["CUDA_VISIBLE_DEVICES"])
    assert seen == ["4", "5", "4"]  # round-robin when there are more workers than GPUs
    env = {"CUDA_VISIBLE_DEVICES": "4,5"}
    assert pin_xdist_worker_to_gpu(env) is None and env["CUDA_VISIBLE_DEVICES"] == "4,5"  # not a worker
    assert pin_xdist_worker_to_gpu({"PYTEST_XDIST_WORKER": "gw1", "CUDA_VISIBLE_DEVICES": ""}) is None


# -- the claims side ------------------------------------------------------------------------------
def test_sweep_command_parses_and_names_profile_seed_and_cache():
    command = sweep_command("cifar10-resnet18-coarse", profile="quick", seed=2, cache="/shared/my cache")
    assert command == "fgcore sweep cifar10-resnet18-coarse --profile quick --seed 2 --cache '/shared/my cache'"
    args = build_parser().parse_args(shlex.split(command)[1:])
    assert (args.targets, args.profile, args.seed, args.cache) == (["cifar10-resnet18-coarse"], "quick", 2, "/shared/my cache")
    # the top-level `fgcore --cache DIR sweep` spelling keeps its value too
    assert build_parser().parse_args(["--cache", "/c", "sweep", "x"]).cache == "/c"


def _plugin_args() -> list[str]:
    """Load the fgcore plugin explicitly only where its entry point is not installed (PYTHONPATH runs)."""
    import importlib.metadata

    installed = any(ep.name == "fgcore" for ep in importlib.metadata.entry_points(group="pytest11"))
    return [] if installed else ["-p", "fgcore.suite.plugin"]


def test_claims_read_the_cache_a_sweep_filled_and_name_the_sweep_for_a_missing_run(local_sweep, pytester, claim_probe,
                                                                                   monkeypatch):
    monkeypatch.setenv("FGCORE_FIXTURES", str(local_sweep["fixtures"]))
    pytester.makepyfile(test_claims=claim_probe("sweeptest"))
    result = pytester.runpytest_inprocess(*_plugin_args(), "-p", "no:cacheprovider",
                                          "--fg-train", "never", "--fg-cache", str(local_sweep["cache"]))
    result.assert_outcomes(passed=2, failed=1)  # tiny-a, tiny-b from the cache; broken is missing
    text = result.stdout.str()
    assert "test_claim[broken]" in text and "--fg-train=never" in text
    assert "produce it with: fgcore sweep broken --profile paper" in text


# -- what SLURM says (squeue / sacct parsing) and what sbatch refuses ------------------------------
def _runner(outputs: dict[str, tuple[int, str, str]]):
    """A subprocess.run stand-in: command name -> (exit code, stdout, stderr)."""
    def run(command, **kwargs):
        code, out, err = outputs[command[0]]
        return subprocess.CompletedProcess(command, code, out, err)
    return run


def test_slurm_state_merges_squeue_and_sacct_per_array_task():
    from fgcore.sweep.slurm_state import query, task_ids

    assert task_ids("12_[0-2,5%4]") == ["12_0", "12_1", "12_2", "12_5"] and task_ids("12_3") == ["12_3"]
    sacct = ("12_0|COMPLETED|2024-05-01T12:00:00|2024-05-01T12:01:00\n"
             "12_1|CANCELLED by 0|2024-05-01T12:00:00|2024-05-01T12:00:30\n"
             "12_[2-3]|PENDING|Unknown|Unknown\n")
    squeue = "12_2|RUNNING|2024-05-01T12:02:00\n12_3|PENDING|N/A\n99_0|RUNNING|2024-05-01T12:00:00\n"
    snapshot = query(["12_0", "12_1", "12_2", "12_3", "12_7"],
                     runner=_runner({"sacct": (0, sacct, ""), "squeue": (0, squeue, "")}))
    assert snapshot.accounting and snapshot.squeue_error is None
    done, cancelled, running, pending = (snapshot.get(f"12_{i}") for i in range(4))
    assert (done.state, done.active, done.end - done.start) == ("COMPLETED", False, 60)
    assert cancelled.state == "CANCELLED" and not cancelled.active
    assert (running.state, running.source, running.started, running.active) == ("RUNNING", "squeue", True, True)
    assert pending.active and not pending.started and pending.start is None
    assert snapshot.get("12_7").state is None and "99_0" not in snapshot.tasks  # unknown; not ours


def test_slurm_state_without_accounting_keeps_squeues_word():
    from fgcore.sweep.slurm_state import query

    disabled = (1, "", "sacct: error: Slurm accounting storage is disabled\n")
    snapshot = query(["5_0", "5_1"], runner=_runner({"sacct": disabled, "squeue": (0, "5_0|PENDING|N/A\n", "")}))
    assert not snapshot.accounting and "accounting storage is disabled" in snapshot.sacct_error
    assert snapshot.get("5_0").active and snapshot.get("5_1").state is None


def test_an_unanswering_squeue_stops_the_sweep_before_it_submits_twice(fixtures, tmp_path, monkeypatch):
    from fgcore.sweep.slurm import _jobs_in_flight

    plan = plan_sweep(["tiny-b"], cache=tmp_path, profile="paper")
    (tmp_path / "sweeps" / "jobs").mkdir(parents=True)
    (tmp_path / "sweeps" / "jobs" / f"{plan.todo[0].key}.json").write_text(json.dumps(
        {"cluster": "slurm", "job_id": "7_0", "folder": str(tmp_path), "submitted": 0}))
    from fgcore.sweep import slurm_state

    runner = _runner({"sacct": (1, "", "sacct: error: disabled"),
                      "squeue": (1, "", "squeue: error: Unable to contact slurm controller")})
    real = slurm_state.query
    monkeypatch.setattr(slurm_state, "query", lambda ids: real(ids, runner=runner))
    with pytest.raises(ValueError, match="Unable to contact slurm controller.*nothing was submitted"):
        _jobs_in_flight(plan, plan.todo, "slurm")


SINFO = (0, "debug*|2|24105|(null)|infinite\nbig|64|512000|gpu:a100:4|2-00:00:00\n", "")


def test_a_request_no_node_can_run_names_every_option_to_change():
    from fgcore.sweep.sbatch_errors import check_fits, memory_mb

    assert (memory_mb("32G"), memory_mb("500"), memory_mb("1.5T"), memory_mb("lots")) == (32768, 500, 1572864, None)
    with pytest.raises(ValueError) as error:
        check_fits(SlurmOptions(), runner=_runner({"sinfo": SINFO}))  # 1 GPU, 8 CPUs, 32G on the default partition
    message = str(error.value)
    for expected in ("change --gpus-per-task", "gres: (null)", "change --cpus-per-task: 8 CPUs per task, but the "
                     "largest node of partition debug has 2", "change --mem: 32G per task", "--mem 24105M"):
        assert expected in message, message
    check_fits(SlurmOptions(partition="big"), runner=_runner({"sinfo": SINFO}))  # fits there
    check_fits(SlurmOptions(), runner=_runner({"sinfo": (1, "", "sinfo: error")}))  # cannot tell: sbatch decides


def test_an_sbatch_refusal_is_explained_with_its_words_and_the_option():
    from fgcore.sweep.sbatch_errors import explain_rejection

    error = ("sbatch: error: invalid partition specified: nosuch\n"
             "sbatch: error: Batch job submission failed: Invalid partition name specified\n")
    runner = _runner({"sinfo": SINFO})
    message = explain_rejection(error, SlurmOptions(partition="nosuch", gpus_per_task=0, cpus_per_task=1, mem="1G"),
                                runner=runner)
    assert message.startswith("sbatch refused the job array: invalid partition specified: nosuch; Batch job "
                              "submission failed: Invalid partition name specified. Nothing was submitted.")
    assert "change --partition: 'nosuch' is not a partition of this cluster (partitions: big, debug)" in message
    account = explain_rejection("sbatch: error: Invalid account or account/partition combination specified",
                                SlurmOptions(gpus_per_task=0, cpus_per_task=1, mem="1G"), runner=runner)
    assert "change --sbatch account=NAME" in account


def test_slurm_tasks_given_gpus_train_on_them():
    """float32 runs default to the CPU; a SLURM task that was given GPUs gets FGCORE_DEVICE=cuda."""
    from fgcore.sweep.slurm import SlurmOptions

    assert SlurmOptions().requests_gpus
    assert SlurmOptions(gpus_per_task=0, sbatch=("gres=gpu:a100:1",)).requests_gpus
    assert not SlurmOptions(gpus_per_task=0, sbatch=("account=myproj",)).requests_gpus


# -- where runs go: slots per GPU, bf16 never on the CPU unasked ----------------------------------------
def _planned(precisions):
    from types import SimpleNamespace

    from fgcore.train import RunSpec

    runs = [SimpleNamespace(spec=RunSpec(dataset="digits", precision=p, epochs=1), sources=(f"e-{p}",))
            for p in precisions]
    return SimpleNamespace(todo=runs)


def test_workers_per_gpu_come_from_gpu_check_and_the_command_line_wins(tmp_path, monkeypatch):
    from fgcore import machine
    from fgcore.sweep import local

    monkeypatch.setattr(local, "gpu_names", lambda: ["NVIDIA H200"])
    slots = local.plan_slots(None, ["0", "1"], cache=tmp_path)
    assert slots.gpus == ["0", "1"] and "has not measured" in slots.why
    entry = machine.save_workers_per_gpu("NVIDIA H200", {1: 40_000.0, 2: 70_000.0, 4: 74_000.0},
                                         source="test", cache=tmp_path)
    assert entry["workers"] == 2   # 4 at once is within 10% of 2: not worth the memory
    slots = local.plan_slots(None, ["0", "1"], cache=tmp_path)
    assert slots.gpus == ["0", "1", "0", "1"] and "2 per GPU" in slots.why and "70,000 img/s" in slots.why
    assert local.plan_slots(3, ["0"], cache=tmp_path).gpus == ["0", "0", "0"]
    assert local.plan_slots(None, ["0"], device="cpu", cache=tmp_path).gpus == [None]
    monkeypatch.setattr(local, "gpu_names", lambda: ["NVIDIA A100"])   # another model: not measured
    assert local.plan_slots(None, ["0"], cache=tmp_path).gpus == ["0"]


def test_a_bf16_run_never_goes_to_the_cpu_unasked():
    from fgcore.errors import UsageError
    from fgcore.sweep import local

    cpu = local.Slots([None], "no GPU")
    with pytest.raises(UsageError, match=r"bf16 .*e-bf16.*--device cpu"):
        local.check_devices(_planned(["float32", "bf16"]), cpu, "auto")
    local.check_devices(_planned(["float32", "bf16"]), cpu, "cpu")      # asked for
    local.check_devices(_planned(["float32"]), cpu, "auto")             # nothing to refuse
    local.check_devices(_planned(["bf16"]), local.Slots(["0"], ""), "auto")
    with pytest.raises(UsageError, match="no GPU is visible"):
        local.plan_slots(None, [], device="cuda")
    bf16, float32 = _planned(["bf16", "float32"]).todo
    assert local.run_device(bf16, "0", "auto") == "0"
    assert local.run_device(float32, "0", "auto") is None               # as a claims session would train it
    assert local.run_device(float32, "0", "cuda") == "0"
    assert local.run_device(bf16, "0", "cpu") is None


def test_a_sweep_refuses_bf16_on_a_machine_without_gpu_and_its_dry_run_says_so(tmp_path, monkeypatch, capsys):
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    (fixtures / "tiny-bf16.toml").write_text(
        'description = "a bf16 run"\ntier = "fast"\ntags = []\n[spec]\ndataset = "digits"\n'
        'model = "mlp"\nepochs = 1\nprecision = "bf16"\n')
    monkeypatch.setenv("FGCORE_FIXTURES", str(fixtures))
    code, out = cli("sweep", "tiny-bf16", "--cache", str(tmp_path / "cache"), "--gpus", "none")
    assert code == 2 and "--device cpu" in capsys.readouterr().err
    code, out = cli("sweep", "tiny-bf16", "--cache", str(tmp_path / "cache"), "--dry-run", "--gpus", "none")
    assert code == 0 and "note: here the sweep would stop" in out and "--device cpu" in out   # a login node's plan
    code, out = cli("sweep", "tiny-bf16", "--cache", str(tmp_path / "cache"), "--dry-run", "--gpus", "none",
                    "--device", "cpu")
    assert code == 0 and "(CPU; --device cpu)" in out


def test_without_submitit_the_slurm_executor_says_how_to_get_it(monkeypatch):
    import sys

    from fgcore.errors import UsageError
    from fgcore.sweep import slurm

    monkeypatch.setitem(sys.modules, "submitit", None)   # import submitit raises ImportError
    with pytest.raises(UsageError, match=r"missing submitit: pip install submitit .*--executor local"):
        slurm._submitit()
