"""App. D-H: the observations of Sec. 4 and 6 at every configuration of the 3 x 3 grid of learning rate
x weight decay, as the appendices show them (Figs. 29-46): Fine CIFAR-10 (App. D, Figs. 29-31), Coarse
CIFAR-100 (App. E, Figs. 32, 33, 35, 36), random coarse labels (App. F, Figs. 37-39), DenseNet-121
(App. G, Figs. 40-43) and VGG (App. H, Figs. 44-46).

Each claim is its section's, with the same checks, thresholds and controls (declared in the section's
module), judged at the worst configuration (grids.each_configuration) of every configuration but
(0.1, 5e-3), which App. C leaves out because it does not fit CIFAR-10. The controls are single runs
(one configuration), measured once for all configurations: the no_subclusters mixture, VGG (collapsed),
ResNet-18 (keeps_structure) and the original-label run (original_labels), each described in the
section's module.
"""

import grids
import pytest
import test_app_cfgh_labelings_networks_grid as app_fgh
import test_sec4_1_class_distance as sec4_1
import test_sec4_2_tsne_and_clp as sec4_2
import test_sec6_fine_labels as sec6


@pytest.mark.claim("fine-labels", applies_to="fine-grid")
def test_fine_labels_at_each_configuration(claim):
    grids.verify(claim, sec6.CHECKS)
    grids.heatmaps(claim, kind="train")                    # Figs. 29-31: epochs 20, 200, 350


@pytest.mark.claim("diag-first", applies_to="coarse-grid")
def test_diag_first_at_each_configuration(claim):
    grids.verify(claim, [sec4_1.LINE_GAP, sec4_1.LEAD])
    grids.heatmaps(claim, paper_epochs=(20,))              # Fig. 32


@pytest.mark.claim("diag-darker-final", applies_to="coarse-grid")
def test_diag_darker_final_at_each_configuration(claim):
    grids.verify(claim, [sec4_1.DIAG_RATIO])
    grids.heatmaps(claim, paper_epochs=(200, 350))         # Figs. 33, 35


@pytest.mark.claim("clp-recovers", applies_to="coarse-grid")
def test_clp_recovers_at_each_configuration(claim):
    grids.clp_bars(claim, grids.verify(claim, [sec4_2.CLP_FRACTION]))   # Fig. 36


def _same_structure(claim):
    subject = grids.verify(claim, app_fgh.SAME_STRUCTURE)
    grids.heatmaps(claim)
    grids.clp_bars(claim, subject)


@pytest.mark.claim("random-coarse", applies_to="random-coarse-grid")
def test_random_coarse_at_each_configuration(claim):
    _same_structure(claim)                                 # Figs. 37-39


@pytest.mark.claim("densenet", applies_to="densenet-grid")
def test_densenet_at_each_configuration(claim):
    _same_structure(claim)                                 # Figs. 40-43


@pytest.mark.claim("vgg-no-structure", applies_to="vgg-grid")
def test_vgg_no_structure_at_each_configuration(claim):
    subject = grids.verify(claim, app_fgh.VGG)
    grids.heatmaps(claim)                                  # Figs. 44-46
    grids.clp_bars(claim, subject)
