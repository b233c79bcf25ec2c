"""Fixtures (TOML) -> RunSpecs: grids, dependent grid settings, profiles, seeds, errors."""

from pathlib import Path

import pytest

from fgcore.experiments import available, load_experiment

TOML = '''
description = "test"
tier = "fast"
tags = ["coarse"]
[controls]
no_subclusters = "exp"
[compare]
random = "exp"
[spec]
dataset = "gaussian_mixture"
labeling = "coarse:5"
model = "mlp"
epochs = 10
seed = 1
[grid]
weight_decay = [5e-3, 5e-4]
"data_args.sigma2" = [1.0, 4.0, 16.0]
[profiles.quick]
spec = { epochs = 2 }
grid = { weight_decay = [5e-4] }
'''


@pytest.fixture
def fixtures(tmp_path, monkeypatch):
    monkeypatch.setenv("FGCORE_FIXTURES", str(tmp_path))
    return tmp_path


def test_grid_profile_and_seed(fixtures: Path):
    (fixtures / "exp.toml").write_text(TOML)
    exp = load_experiment("exp")
    assert exp.tier == "fast" and exp.tags == ("coarse",) and exp.controls == {"no_subclusters": "exp"}
    assert exp.compare == {"random": "exp"} and "controls" not in exp.extra
    runs = exp.runs()
    assert len(runs) == 6 and len({spec.key for _, spec in runs}) == 6
    point, spec = runs[0]
    assert set(point) == {"weight_decay", "data_args.sigma2"} and spec.data_args["sigma2"] == point["data_args.sigma2"]
    quick = exp.runs("quick", seed=3)
    assert len(quick) == 3 and all(s.epochs == 2 and s.seed == 1 + 3 * 10_000 and s.weight_decay == 5e-4
                                   for _, s in quick)
    assert all(s.snapshot_epochs[-1] == 2 for _, s in quick)


def test_grid_tables_set_dependent_fields(fixtures: Path):
    text = TOML.replace('"data_args.sigma2" = [1.0, 4.0, 16.0]',
                        'setting = [{ "data_args.sigma2" = 1.0, lr = 0.5 }, { "data_args.sigma2" = 9.0, lr = 0.2 }]')
    (fixtures / "exp.toml").write_text(text)
    specs = load_experiment("exp").run_specs()
    assert {(s.data_args["sigma2"], s.lr) for s in specs} == {(1.0, 0.5), (9.0, 0.2)}


def test_replicates_and_base_seeds_never_share_a_run(fixtures: Path):
    (fixtures / "exp.toml").write_text(TOML.replace('"data_args.sigma2" = [1.0, 4.0, 16.0]', "replicate = [0, 1, 2]"))
    exp = load_experiment("exp")
    keys = [{spec.key for spec in exp.run_specs(seed=base)} for base in range(3)]
    assert all(len(k) == 6 for k in keys) and not (keys[0] & keys[1]) and not (keys[1] & keys[2])


def test_unknown_experiment_lists_the_known_ones(fixtures: Path):
    (fixtures / "exp.toml").write_text(TOML)
    with pytest.raises(ValueError, match="known experiments: exp"):
        load_experiment("nope")
    assert list(available()) == ["exp"]


@pytest.mark.parametrize("change, message", [
    (('tier = "fast"', 'tier = "medium"'), "`tier` must be one of"),
    (('epochs = 10', 'epochs = -1'), "`epochs`"),
    (('[profiles.quick]', '[profiles.fast]'), "unknown profile"),
    (("spec = { epochs = 2 }", "spec = { epochs = 2 }\nepochs = 3"), r"\[profiles.quick\] has unknown key"),
    (("spec = { epochs = 2 }", "spec = { epochs = 2 }\nepochs = 3"), r"\[profiles.quick\] has unknown key"),
    (('weight_decay = [5e-3, 5e-4]', 'weight_decay = []'), "non-empty list"),
    (('model = "mlp"', 'model = "mlp"\nlearning_rate = 3'), "unknown field"),
])
def test_bad_fixtures_fail_at_load_time_with_the_file_named(fixtures: Path, change, message):
    (fixtures / "exp.toml").write_text(TOML)   # the experiment its [controls] and [compare] name
    (fixtures / "bad.toml").write_text(TOML.replace(*change))
    with pytest.raises(ValueError, match=message):
        load_experiment("bad")


def test_repository_fixtures_all_load():
    repo = Path(__file__).resolve().parents[1] / "fixtures"
    names = sorted(p.stem for p in repo.glob("*.toml"))
    assert names, "the repository has no fixtures"
    for name in names:
        exp = load_experiment(repo / f"{name}.toml")
        assert exp.runs() and exp.tier in ("fast", "slow", "gpu")


@pytest.mark.parametrize("table, message", [
    ('[controls]\nno_subcluster = "exp"', "unknown role 'no_subcluster'; roles: no_collapse"),
    ('[controls]\nno_subclusters = "gmm-hyperplan"', "no_subclusters = 'gmm-hyperplan' names no experiment"),
    ('[controls]\nno_subclusters = 3', "must name an experiment"),
    ('[compare]\nrandom = "nope"', r"\[compare\] random = 'nope' names no experiment"),
])
def test_a_typo_in_controls_or_compare_fails_when_the_fixture_loads(fixtures: Path, table, message):
    text = TOML.replace('[controls]\nno_subclusters = "exp"\n[compare]\nrandom = "exp"', table)
    (fixtures / "exp.toml").write_text(text)
    with pytest.raises(ValueError, match=message):
        load_experiment("exp")


def test_the_repository_fixtures_load_and_fill_every_control_role_their_claims_need():
    """Every experiment that carries a claim's tag names the controls that claim's checks need."""
    repo = Path(__file__).resolve().parents[1] / "fixtures"
    needs = {"coarse": {"no_collapse", "no_subclusters", "collapsed"}, "random-coarse": {"no_subclusters", "collapsed"},
             "densenet": {"no_subclusters", "collapsed"}, "long-training": {"no_subclusters", "collapsed"},
             "fine": {"no_class_structure", "original_labels"}, "natural-groups": {"random_grouping"},
             "gmm-sigma": {"shared_means"}, "gmm-tau": {"shared_means"}, "theory": {"merged_clusters"},
             "vgg": {"keeps_structure"}, "hparam-grid": {"excluded_run"},
             # the appendices' grids: each claim's checks at every configuration, with its controls
             "fine-grid": {"no_class_structure", "original_labels"}, "coarse-grid": {"no_subclusters", "collapsed"},
             "random-coarse-grid": {"no_subclusters", "collapsed"}, "densenet-grid": {"no_subclusters", "collapsed"},
             "vgg-grid": {"keeps_structure"}}
    for path in sorted(repo.glob("*.toml")):
        exp = load_experiment(path)
        for tag in exp.tags:
            missing = needs.get(tag, set()) - set(exp.controls)
            assert not missing, f"{path.name} ({tag}) names no control for {sorted(missing)}"


def test_extends_shares_the_run_definition_and_states_only_what_differs(fixtures: Path):
    (fixtures / "exp.toml").write_text(TOML.replace('model = "mlp"', 'model = "mlp"\nmodel_args = { width = 64, depth = 3 }'))
    (fixtures / "child.toml").write_text('''
description = "the same runs at a larger weight decay, two layers"
extends = "exp"
tags = []
[spec]
model_args = { depth = 2 }
[grid]
weight_decay = [5e-2]
''')
    base, child = load_experiment("exp"), load_experiment("child")
    assert child.extends == "exp" and child.tier == "fast"
    assert child.tags == () and child.controls == {} and child.compare == {}   # the experiment's own, not inherited
    assert dict(child.spec["model_args"]) == {"width": 64, "depth": 2}         # nested tables merge
    assert child.grid["weight_decay"] == (5e-2,) and child.grid["data_args.sigma2"] == base.grid["data_args.sigma2"]
    assert len(child.runs()) == 3 and child.runs("quick")[0][1].epochs == 2   # profiles are inherited


def test_extends_with_the_same_fields_gives_the_same_runs(fixtures: Path):
    (fixtures / "exp.toml").write_text(TOML)
    (fixtures / "twin.toml").write_text('description = "same"\nextends = "exp"\n[spec]\n')
    assert [s.key for s in load_experiment("twin").run_specs()] == [s.key for s in load_experiment("exp").run_specs()]


@pytest.mark.parametrize("files, message", [
    ({"a": 'extends = "nope"\n[spec]\n'}, "extends = 'nope': unknown experiment 'nope'"),
    ({"a": 'extends = "b"\n[spec]\n', "b": 'extends = "a"\n[spec]\n'}, r"goes round in a circle: a -> b -> a|b -> a -> b"),
    ({"a": 'extends = 3\n[spec]\n'}, "`extends` must name an experiment"),
])
def test_extends_errors(fixtures: Path, files, message):
    for name, text in files.items():
        (fixtures / f"{name}.toml").write_text(text)
    with pytest.raises(ValueError, match=message):
        load_experiment("a")


def test_a_loaded_experiment_is_reused_until_a_fixture_file_changes(fixtures: Path):
    """A claims session asks for each fixture about a thousand times: it is validated once, and loaded
    afresh as soon as any fixture file of the folders changes (its own, the one it extends, a control)."""
    from fgcore.experiments import Fixtures

    (fixtures / "exp.toml").write_text(TOML)
    folders = Fixtures([fixtures])
    first = folders.load("exp")
    assert folders.load("exp") is first and folders.load(fixtures / "exp.toml") is first
    (fixtures / "exp.toml").write_text(TOML.replace("epochs = 10", "epochs = 120"))   # (its size changes too)
    changed = folders.load("exp")
    assert changed is not first and changed.spec["epochs"] == 120
    (fixtures / "exp.toml").write_text(TOML.replace('no_subclusters = "exp"', 'no_subclusters = "later"'))
    with pytest.raises(ValueError, match="no_subclusters = 'later' names no experiment"):
        folders.load("exp")
    (fixtures / "later.toml").write_text(TOML)   # the control it names now exists
    assert folders.load("exp").controls == {"no_subclusters": "later"}
