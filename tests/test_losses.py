"""Tests of fgcore.losses: cross-entropy, the unhinged loss of Sec. 7, predictions, errors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from fgcore.losses import LOSSES, get_loss, num_outputs, predict
from fgcore.models import build

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py: small passes, one thread


def test_cross_entropy_matches_torch():
    torch.manual_seed(0)
    logits, target = torch.randn(6, 4), torch.tensor([0, 1, 2, 3, 0, 1])
    loss = get_loss("cross_entropy")
    assert loss.name == "cross_entropy"
    assert torch.allclose(loss(logits, target), F.cross_entropy(logits, target))


def test_unhinged_value_and_gradient():
    # l(f, y) = -y f / 2, labels 0 -> y = +1, 1 -> y = -1; mean over the batch.
    output = torch.tensor([[2.0], [-1.0], [0.5]], requires_grad=True)
    target = torch.tensor([0, 0, 1])
    value = get_loss("unhinged")(output, target)
    assert value.item() == pytest.approx((-1.0 + 0.5 + 0.25) / 3)
    value.backward()
    # d l / d f = -y / 2 (App. A, eq. 8), divided by n for the mean.
    assert torch.allclose(output.grad[:, 0], torch.tensor([-0.5, -0.5, 0.5]) / 3)


def test_unhinged_accepts_flat_output_and_computes_in_float32():
    target = torch.tensor([0, 1])
    flat = get_loss("unhinged")(torch.tensor([1.0, 1.0]), target)
    assert flat.item() == pytest.approx(0.0)
    half = get_loss("unhinged")(torch.tensor([[1.0], [3.0]], dtype=torch.bfloat16), target)
    assert half.dtype == torch.float32 and half.item() == pytest.approx(0.5)


def test_unhinged_rejects_a_model_with_more_than_one_output():
    with pytest.raises(ValueError, match=r"single output.*\(4, 2\)"):
        get_loss("unhinged")(torch.zeros(4, 2), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="single output; this model has 10"):
        get_loss("unhinged", num_outputs=10)
    model = build("mlp", 2, (8,))
    with pytest.raises(ValueError, match="single output"):
        get_loss("unhinged", num_outputs=model.head.out_features)
    assert get_loss("unhinged", num_outputs=build("theory_net", 2, (8,)).head.out_features).name == "unhinged"


@pytest.mark.parametrize(
    "output,target,pattern",
    [
        (torch.zeros(3, 1), torch.tensor([0, 2, 1]), "labels must be 0 or 1"),
        (torch.zeros(3, 1), torch.tensor([0.0, 1.0, 1.0]), "integer class labels"),
        (torch.zeros(3, 1), torch.tensor([0, 1]), "3 rows but target has 2"),
    ],
)
def test_unhinged_bad_targets(output, target, pattern):
    with pytest.raises(ValueError, match=pattern):
        get_loss("unhinged")(output, target)


def test_cross_entropy_errors():
    with pytest.raises(ValueError, match="num_classes >= 2"):
        get_loss("cross_entropy")(torch.zeros(3, 1), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="at least 2 outputs"):
        get_loss("cross_entropy", num_outputs=1)
    with pytest.raises(ValueError, match="1-D tensor of integer"):
        get_loss("cross_entropy")(torch.zeros(3, 2), torch.zeros(3, 1, dtype=torch.long))


@pytest.mark.parametrize("name", ["hinge", "CrossEntropy", None])
def test_unknown_loss_lists_valid_ones(name):
    for call in (lambda: get_loss(name), lambda: predict(torch.zeros(2, 2), name)):
        with pytest.raises(ValueError, match="valid losses: cross_entropy, unhinged"):
            call()


def test_num_outputs():
    assert num_outputs("cross_entropy", 5) == 5
    assert num_outputs("unhinged", 2) == 1
    assert get_loss("unhinged").num_outputs(2) == 1
    with pytest.raises(ValueError, match="binary"):
        num_outputs("unhinged", 3)
    with pytest.raises(ValueError, match=">= 2"):
        num_outputs("cross_entropy", 1)


def test_predict():
    logits = torch.tensor([[0.1, 2.0, -1.0], [3.0, 0.0, 0.0]])
    assert predict(logits, "cross_entropy").tolist() == [1, 0]
    out = torch.tensor([[0.7], [0.0], [-0.2]])
    assert predict(out, "unhinged").tolist() == [0, 0, 1]  # output >= 0 -> label 0 (y = +1)
    assert predict(out[:, 0], "unhinged").dtype == torch.int64
    assert get_loss("unhinged").predict(out).tolist() == [0, 0, 1]
    with pytest.raises(ValueError, match="single output"):
        predict(logits, "unhinged")


@settings(max_examples=40, deadline=None)
# |f| >= 1e-12: the loss is f / 2, and halving a subnormal like 5e-324 rounds to 0 (a tie, not an error).
@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False).filter(lambda v: abs(v) >= 1e-12), min_size=1, max_size=20))
def test_unhinged_prediction_is_the_label_with_the_lower_loss(values):
    output = torch.tensor(values, dtype=torch.float64)
    predicted = predict(output, "unhinged")
    loss = get_loss("unhinged")
    for i in range(len(values)):
        own = loss(output[i : i + 1], predicted[i : i + 1])
        other = loss(output[i : i + 1], 1 - predicted[i : i + 1])
        assert own < other


def test_gradient_descent_on_theory_net_lowers_the_unhinged_loss():
    torch.manual_seed(0)
    d = 40
    means = 3.0 * torch.eye(d)[:4]  # four orthogonal cluster means, labels 0, 0, 1, 1
    cluster = torch.arange(64) % 4
    x = means[cluster] + 0.3 * torch.randn(64, d)
    target = (cluster >= 2).long()
    model = build("theory_net", 2, (d,), m=20)
    loss = get_loss("unhinged", num_outputs=model.head.out_features)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    start = loss(model(x), target).item()
    for _ in range(20):
        optimizer.zero_grad()
        loss(model(x), target).backward()
        optimizer.step()
    end = loss(model(x), target)
    assert end.item() < start - 0.1
    assert (predict(model(x), "unhinged") == target).float().mean() == 1.0
    assert set(LOSSES) == {"cross_entropy", "unhinged"}
