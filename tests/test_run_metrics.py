"""fgcore.run_metrics: the run-level measures the claims compare with thresholds."""

import numpy as np
import pytest

from fgcore import run_metrics, metrics
from fgcore.train import RunSpec, train

TINY = dict(dataset="gaussian_mixture", data_args={"dim": 8, "n_per_class": 30, "sigma2": 25.0},
            model="mlp", model_args={"width": 32, "depth": 1}, epochs=6, batch_size=50, lr=0.05,
            snapshot_epochs=(0, 1, 3, 6))


@pytest.fixture(scope="module")
def coarse_run(tmp_path_factory):
    return train(RunSpec(labeling="coarse:5", **TINY), cache=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def fine_run(tmp_path_factory):
    return train(RunSpec(labeling="fine", **TINY), cache=tmp_path_factory.mktemp("cache"))


def test_pair_distance_ratio_leaves_self_pairs_out():
    H = np.array([[0.0], [2.0], [10.0]])
    cluster = np.array([0, 0, 1])
    # within: the pair (0, 2) both ways -> 4; across: (0 vs 10, 2 vs 10) -> (100 + 64) / 2 = 82
    assert run_metrics.pair_distance_ratio(H, cluster, 0, 1) == pytest.approx(4 / 82)
    with pytest.raises(ValueError, match="needs >= 2 samples"):
        run_metrics.pair_distance_ratio(H, cluster, 1, 0)


def test_spearman_is_zero_for_a_constant_side():
    assert run_metrics.spearman([1, 2, 3], [5, 5, 5]) == 0.0
    assert run_metrics.spearman([1, 2, 3], [1, 4, 9]) == pytest.approx(1.0)


def test_curve_rank_counts_every_run_not_the_medians():
    # Medians that line up by chance: perfectly ordered, but each x's runs spread over the whole range.
    curve = {"x": [1, 2, 3, 4], "median": [1.0, 2.0, 3.0, 4.0],
             "seeds": [[4.5, 1.0, 0.5], [0.4, 2.0, 4.6], [4.4, 3.0, 0.3], [0.2, 4.0, 4.7]]}
    assert run_metrics.spearman(curve["x"], curve["median"]) == pytest.approx(1.0)
    assert abs(run_metrics.curve_rank(curve)) < 0.3
    # A trend that stands above the spread between seeds keeps its rank.
    rising = {"x": [1, 2, 3], "seeds": [[1.0, 1.1], [2.0, 2.1], [3.0, 3.1]]}
    assert run_metrics.curve_rank(rising) == pytest.approx(0.956, abs=1e-3)


def test_curve_lines_and_ratio_agree_with_metrics(coarse_run):
    curve = run_metrics.collapse_curve(coarse_run)
    assert curve["epochs"] == list(range(7)) and len(curve["nc1"]) == 7  # stats_every = 1
    D = coarse_run.distance_matrix("last", "original")
    lines = run_metrics.lines(coarse_run)
    assert lines == metrics.structure_lines(D, coarse_run.superclass_of)
    same = (np.arange(10) % 5)[:, None] == (np.arange(10) % 5)[None, :]
    expected = D[same & ~np.eye(10, dtype=bool)].mean() / np.diag(D).mean()
    assert run_metrics.superclass_to_diagonal(coarse_run) == pytest.approx(expected)
    assert run_metrics.heatmap_epochs(coarse_run) == [1, 3, 6]  # nearest snapshots to 20/120/240/350 of 350
    ratio = run_metrics.distance_ratio(coarse_run).overall
    H = coarse_run.features("last", "train")
    assert ratio == pytest.approx(metrics.msd_ratio(H, coarse_run.labels("train", "original"),
                                                    coarse_run.labels("train", "train")).overall)


def test_fine_label_distances(fine_run):
    D = fine_run.distance_matrix("last", "train")
    out = run_metrics.fine_label_distances(fine_run, "last")
    assert out["halves"] == pytest.approx(np.mean([D[c, c + 10] for c in range(10)]))
    assert out["within"] == pytest.approx(np.mean(np.diag(D)))
    assert out["halves"] < out["different"]  # well-separated clusters: halves of a class stay close


def test_measures_refuse_runs_they_do_not_apply_to(coarse_run, fine_run):
    with pytest.raises(ValueError, match="labeling 'fine'"):
        run_metrics.fine_label_distances(coarse_run, "last")
    with pytest.raises(ValueError, match="merged"):
        run_metrics.clp(fine_run)
    with pytest.raises(ValueError, match="no superclass lines"):
        run_metrics.lines(fine_run)
    with pytest.raises(ValueError, match="identity"):
        run_metrics.best_test_accuracy(coarse_run)


def test_collapse_curve_carries_the_family_the_trainer_recorded(coarse_run):
    curve = run_metrics.collapse_curve(coarse_run)
    for key in ("nc3", "nc4", "cdnv", "equinorm", "equiangularity", "test_acc"):
        assert len(curve[key]) == len(curve["epochs"]) and np.all(np.isfinite(curve[key]))
    assert all(0.0 <= v <= 1.0 for v in curve["nc4"])


def test_overview_is_a_stratified_sample_of_every_class_with_the_nc1_curve(coarse_run, fine_run):
    data = run_metrics.overview_figure(coarse_run, n_points=40, random_state=0)
    labels = np.asarray(data["labels"])
    assert np.asarray(data["points"]).shape == (len(labels), 2)
    assert set(labels) == set(range(10)) and abs(len(labels) - 40) <= 10   # 4 per class, rounded per class
    assert data["nc1"] == run_metrics.collapse_curve(coarse_run)["nc1"]
    assert list(data["superclass_of"]) == list(coarse_run.superclass_of)
    with pytest.raises(ValueError, match="merged"):
        run_metrics.overview_figure(fine_run)


def test_clp_fraction_floors_its_denominator_where_the_probe_itself_is_near_chance():
    # A probe far above chance: the plain ratio (CLP 0.95, LPO 0.98, chance 0.5).
    assert run_metrics.clp_fraction(0.95, 0.98, 0.5) == pytest.approx(0.45 / 0.48)
    # A collapsed network: LPO 0.553 over chance 0.496 made 0.578 read 1.42; the floor (half the way to a
    # perfect probe) reads it 0.33.
    assert run_metrics.clp_fraction(0.578, 0.553, 0.496) == pytest.approx(0.082 / 0.252)
