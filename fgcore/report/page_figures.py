"""A record's figures as the claims report shows them: fgcore.drawing.page's views, captioned with what
the paper's figure shows and how to read ours."""

from __future__ import annotations

from typing import Any

from ..drawing import page
from ..drawing.page import FigureCache

__all__ = ["FIGURE_GUIDE", "FigureCache", "figure_view"]

# What the paper's figure shows and how to read ours (the claim's own statement sits above it).
FIGURE_GUIDE = {
    "nc_curves": "Paper, Fig. 3: NC1 and NC2 against training epochs fall toward 0 (Neural Collapse on the "
                 "coarse labels). Here: NC1 (log scale), NC2 and the training accuracy; the dashed line is "
                 "where the terminal phase (100% training accuracy) begins.",
    "distance_heatmaps": "Paper, Fig. 5 / 14: the class distance matrix D (eq. 6) at four epochs, darker = closer. "
                         "Neural Collapse alone predicts three equally dark lines, the diagonal and the "
                         "same-superclass pairs (Fig. 4b); the paper finds the diagonal darker throughout. "
                         "Here: each D divided by its mean over pairs in different superclasses (one colour "
                         "scale), same-superclass cells outlined in blue; below, the darkness of the diagonal and "
                         "of the superclass lines at each snapshot.",
    "tsne": "Paper, Fig. 6 / 8: t-SNE of the last-layer features of each superclass, coloured by original "
            "class; the original classes form separate clusters. Here: one panel per superclass with the "
            "purity of k-means clusters on the embedding.",
    "clp_bars": "Paper, Fig. 9: Cluster-and-Linear-Probe (labels rebuilt by clustering within each coarse "
                "class) against a linear probe on the true labels (LPO) and a network trained on the "
                "original labels (OT), on the test set with original labels. Right, where drawn: CLP's clusters "
                "of the training samples against their original classes, on the experiment and its controls, as "
                "the coarse-to-fine literature scores them (FALCON, ICML 2024; GEORGE, NeurIPS 2020): accuracy of "
                "the best one-to-one matching of each superclass's clusters to its classes (red: its chance "
                "level), NMI and ARI within superclasses (0 at chance). Recorded, not checked.",
    "ratio_bars": "Paper, Sec. 5 (Fig. 10-13): superclasses of semantically similar classes keep less fine "
                  "structure than random groupings. Here: the mean squared distance ratio (App. B; 1 = no fine "
                  "structure) over natural and over random superclasses, one dot per superclass.",
    "gmm_curves": "Paper, Fig. 17 / 18: the mean squared distance ratio of an MLP trained on a coarsely labelled "
                  "Gaussian mixture grows with the separation of its subclasses; the paper marks in red the runs "
                  "that did not reach 100% training accuracy. Here: median over seeds (line), each seed (dots), "
                  "red rings where training accuracy stayed below 100%.",
    "theory_ratio": "Paper, Sec. 7, Thm. 7.1: a one-hidden-layer net trained on coarse labels keeps the two "
                    "clusters of a label apart: within-cluster distance is much smaller than across. Here: that "
                    "ratio against the input dimension d, for the trained network, the same network before "
                    "training (what the input alone gives) and the control (both clusters share one mean); the "
                    "claim asks the trained ratio to be at most half the untrained one.",
    "overview": "The paper's starting picture (its Fig. 1): trained on coarse labels, the network collapses the "
                "superclasses (NC1 falls toward 0, right), yet inside each superclass (one colour) its original "
                "classes (markers) still sit apart (left): fine structure under Neural Collapse.",
    "grid_clp_bars": "Paper, Fig. 28: CLP, LPO (and OT) for each learning rate x weight decay of the grid; "
                     "every configuration the claim is about keeps CLP far above its chance level (red), and "
                     "how close CLP comes to LPO, like the darkness of the diagonal (D ratio), depends on the "
                     "configuration.",
    "grid_errors": "Paper, App. C: every run of the 3 x 3 learning-rate x weight-decay grid reaches ~0 training "
                   "error except (0.1, 5e-3).",
}


def figure_view(entry: Any, cache: FigureCache, label: str) -> dict[str, Any]:
    """One figure entry of a record for the page template (fgcore.drawing.page.figure_view), captioned
    from FIGURE_GUIDE."""
    return page.figure_view(entry, cache, label, FIGURE_GUIDE)
