"""Tests of fgcore.models: the interface (features / head / forward), each family's layout, the
Sec. 7 network and its activation, import-path models, and every error message."""

from __future__ import annotations

import math
import textwrap
import uuid

import pytest
import torch
from torch import nn

from fgcore.models import MODELS, build, check_model
from fgcore.models.theory import smoothed_symmetric_relu

CIFAR = (3, 32, 32)

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py: small passes, one thread
# (name, num_classes, in_shape, feature_dim): every model at its typical input shapes.
CASES = [
    ("mlp", 10, (64,), 512),
    ("mlp", 5, (1, 8, 8), 512),
    ("theory_net", 2, (50,), 100),
    ("small_cnn", 10, (1, 8, 8), 128),
    ("small_cnn", 5, (1, 28, 28), 128),
    ("resnet18", 5, CIFAR, 512),
    ("densenet121", 5, CIFAR, 1024),
    ("vgg11", 5, CIFAR, 512),
    ("vgg13", 5, CIFAR, 512),
    ("vgg16", 5, CIFAR, 512),
    ("vgg19", 5, CIFAR, 512),
]


def test_every_registered_model_is_covered():
    assert {case[0] for case in CASES} == set(MODELS)


@pytest.mark.parametrize("name,num_classes,in_shape,feature_dim", CASES, ids=lambda v: str(v))
def test_features_shape_and_forward_is_head_of_features(name, num_classes, in_shape, feature_dim):
    torch.manual_seed(0)
    model = build(name, num_classes, in_shape).eval()
    x = torch.randn(2, *in_shape)
    with torch.no_grad():
        h = model.features(x)
        out = model(x)
    assert model.feature_dim == feature_dim
    assert isinstance(model.head, nn.Linear)
    assert model.head.in_features == feature_dim
    expected_outputs = 1 if name == "theory_net" else num_classes
    assert model.head.out_features == expected_outputs
    assert h.shape == (2, feature_dim) and h.dtype == torch.float32
    assert out.shape == (2, expected_outputs)
    assert torch.isfinite(h).all()
    with torch.no_grad():
        assert torch.allclose(out, model.head(h), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "name,expected",
    # The CIFAR-10 parameter counts of the kuangliu/pytorch-cifar layouts the paper's networks follow.
    [("resnet18", 11_173_962), ("densenet121", 6_956_298), ("vgg19", 20_040_522)],
)
def test_parameter_counts_match_the_cifar_layouts(name, expected):
    model = build(name, 10, CIFAR)
    assert sum(p.numel() for p in model.parameters()) == expected


def test_resnet18_is_the_cifar_variant():
    model = build("resnet18", 10, CIFAR)
    assert model.conv1.kernel_size == (3, 3) and model.conv1.stride == (1, 1)
    assert not any(isinstance(m, nn.MaxPool2d) for m in model.modules())
    assert [len(stage) for stage in (model.layer1, model.layer2, model.layer3, model.layer4)] == [2, 2, 2, 2]


def test_vgg_has_batch_norm_after_every_conv():
    model = build("vgg19", 10, CIFAR)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(convs) == 16 and len(bns) == 16


def test_train_mode_step_updates_parameters_small_cnn():
    torch.manual_seed(0)
    model = build("small_cnn", 3, (1, 8, 8))
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = nn.functional.cross_entropy(model(torch.randn(8, 1, 8, 8)), torch.arange(8) % 3)
    loss.backward()
    optimizer.step()
    assert all(p.grad is not None for p in model.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


# resnet18 at 16x16: the same code path as 32x32 at a quarter of the cost (bf16 convs are slow on CPUs
# without native bf16).
@pytest.mark.parametrize("name,in_shape", [("small_cnn", (1, 28, 28)), ("resnet18", (3, 16, 16))])
def test_channels_last_and_bf16_autocast(name, in_shape):
    torch.manual_seed(0)
    model = build(name, 4, in_shape).eval()
    x = torch.randn(2, *in_shape)
    with torch.no_grad():
        reference = model.features(x)
        model = model.to(memory_format=torch.channels_last)
        # channels_last tensors are not contiguous: features must not call view() on them.
        h_cl = model.features(x.contiguous(memory_format=torch.channels_last))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            h_bf16 = model.features(x.contiguous(memory_format=torch.channels_last))
            out_bf16 = model(x.contiguous(memory_format=torch.channels_last))
    assert torch.allclose(h_cl, reference, rtol=1e-4, atol=1e-5)
    assert h_bf16.shape == reference.shape and out_bf16.shape == (2, 4)
    # bf16 has an 8-bit mantissa: agreement to a few percent of the feature scale is what it allows.
    assert (h_bf16.float() - reference).abs().max() <= 0.1 * reference.abs().max()


@pytest.mark.parametrize("name,in_shape", [("mlp", (64,)), ("theory_net", (20,)), ("small_cnn", (1, 8, 8))])
def test_build_is_deterministic_given_the_seed(name, in_shape):
    states = []
    for seed in (3, 3, 4):
        torch.manual_seed(seed)
        states.append(build(name, 2, in_shape).state_dict())
    same = all(torch.equal(states[0][k], states[1][k]) for k in states[0])
    differs = any(not torch.equal(states[0][k], states[2][k]) for k in states[0] if states[0][k].is_floating_point())
    assert same and differs


# ---------------------------------------------------------------- mlp


def test_mlp_options():
    model = build("mlp", 3, (1, 8, 8), width=32, depth=3, batchnorm=True, activation="tanh")
    linears = [m for m in model.body if isinstance(m, nn.Linear)]
    assert [m.out_features for m in linears] == [32, 32, 32] and linears[0].in_features == 64
    assert sum(isinstance(m, nn.BatchNorm1d) for m in model.body) == 3
    assert isinstance(model.body[-1], nn.Tanh)
    h = model.eval().features(torch.randn(4, 1, 8, 8))
    assert h.shape == (4, 32) and h.abs().max() <= 1.0  # tanh output


@pytest.mark.parametrize(
    "kwargs,word",
    [({"width": 0}, "width"), ({"depth": 0}, "depth"), ({"activation": "swish"}, "activation")],
)
def test_mlp_bad_options(kwargs, word):
    with pytest.raises(ValueError, match=word):
        build("mlp", 3, (64,), **kwargs)


# ---------------------------------------------------------------- theory_net (Sec. 7)


def sigma_reference(z: torch.Tensor) -> torch.Tensor:
    """The piecewise definition of Sec. 7, literally."""
    return torch.where(z.abs() <= 1, z**3 / 3, torch.where(z >= 1, z - 2 / 3, z + 2 / 3))


def test_activation_values():
    z = torch.tensor([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0], dtype=torch.float64)
    expected = torch.tensor([-3 + 2 / 3, -1 / 3, -0.125 / 3, 0.0, 0.125 / 3, 1 / 3, 2 - 2 / 3], dtype=torch.float64)
    assert torch.allclose(smoothed_symmetric_relu(z), expected, atol=1e-12)
    grid = torch.linspace(-4, 4, 8001, dtype=torch.float64)
    assert torch.allclose(smoothed_symmetric_relu(grid), sigma_reference(grid), atol=1e-12)
    assert torch.allclose(smoothed_symmetric_relu(-grid), -smoothed_symmetric_relu(grid), atol=1e-12)  # odd


@pytest.mark.parametrize("knot", [-1.0, 1.0])
def test_activation_is_continuous_and_c1_at_the_knots(knot):
    eps = 1e-7
    z = torch.tensor([knot - eps, knot, knot + eps], dtype=torch.float64, requires_grad=True)
    values = smoothed_symmetric_relu(z)
    (grad,) = torch.autograd.grad(values.sum(), z)
    assert (values.max() - values.min()).item() < 2e-7  # continuous: no jump of 2/3
    assert torch.allclose(grad, torch.ones(3, dtype=torch.float64), atol=1e-6)  # z^2 -> 1 from inside


def test_activation_derivative_inside_and_outside():
    z = torch.tensor([-5.0, -0.5, 0.0, 0.3, 0.9, 5.0, 1e30], dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(smoothed_symmetric_relu(z).sum(), z)
    expected = torch.tensor([1.0, 0.25, 0.0, 0.09, 0.81, 1.0, 1.0], dtype=torch.float64)
    assert torch.allclose(grad, expected, atol=1e-12)  # also: no NaN for huge inputs


def test_theory_net_structure_and_fixed_second_layer():
    torch.manual_seed(0)
    model = build("theory_net", 2, (30,), m=16, omega=0.2)
    assert model.first.bias is None and model.head.bias is None
    assert model.first.weight.shape == (16, 30)
    assert torch.equal(model.head.weight, torch.ones(1, 16)) and not model.head.weight.requires_grad
    x = torch.randn(5, 30)
    h = model.features(x)
    assert torch.allclose(h, sigma_reference(x @ model.first.weight.T), atol=1e-6)
    assert torch.allclose(model(x)[:, 0], h.sum(dim=1), atol=1e-5)  # f = 1^T h

    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9, weight_decay=1e-2)
    model(x).sum().backward()
    assert model.head.weight.grad is None and model.first.weight.grad is not None
    optimizer.step()
    assert torch.equal(model.head.weight, torch.ones(1, 16))
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["first.weight"]


def test_theory_net_initialisation_scale():
    torch.manual_seed(1)
    d, m = 400, 100
    model = build("theory_net", 2, (d,), m=m, omega=0.1)
    # 40,000 draws: the sample std of N(0, 0.1^2) is within 3% of 0.1 (standard error 0.35%).
    assert model.first.weight.std().item() == pytest.approx(0.1, rel=0.03)
    assert abs(model.first.weight.mean().item()) < 0.003
    default = build("theory_net", 2, (d,))
    assert default.omega == pytest.approx(d**-0.53)  # the paper's example omega = d^-0.53
    assert default.feature_dim == 100


@pytest.mark.parametrize(
    "num_classes,kwargs,word",
    [(10, {}, "single output"), (2, {"m": 0}, "m"), (2, {"omega": -1.0}, "omega"), (2, {"omega": math.inf}, "omega")],
)
def test_theory_net_bad_arguments(num_classes, kwargs, word):
    with pytest.raises(ValueError, match=word):
        build("theory_net", num_classes, (10,), **kwargs)


# ---------------------------------------------------------------- build() errors


def test_unknown_name_lists_valid_names_and_import_form():
    with pytest.raises(ValueError) as info:
        build("resnet19", 10, CIFAR)
    message = str(info.value)
    assert "resnet18" in message and "densenet121" in message and "vgg19" in message
    assert "package.module:callable" in message and "Did you mean 'resnet18'" in message


@pytest.mark.parametrize("name", ["resnet18", "densenet121", "vgg19", "small_cnn"])
def test_conv_model_rejects_vector_shape(name):
    with pytest.raises(ValueError, match=r"\(channels, height, width\)"):
        build(name, 10, (64,))


def test_vgg_rejects_images_smaller_than_32():
    with pytest.raises(ValueError, match="at least 32x32"):
        build("vgg19", 10, (3, 16, 16))


@pytest.mark.parametrize("in_shape", [(), (0, 3), (3.0, 32, 32), "3x32x32", None, (True, 4)])
def test_bad_in_shape(in_shape):
    with pytest.raises(ValueError, match="in_shape"):
        build("mlp", 10, in_shape)


@pytest.mark.parametrize("num_classes", [0, -1, 2.5, True, "10"])
def test_bad_num_classes(num_classes):
    with pytest.raises(ValueError, match="num_classes"):
        build("mlp", num_classes, (8,))


def test_unknown_option_names_the_options():
    with pytest.raises(ValueError, match=r"no option\(s\) 'width'.*none"):
        build("resnet18", 10, CIFAR, width=3)
    with pytest.raises(ValueError, match="'widht'.*width, depth, batchnorm, activation"):
        build("mlp", 10, (8,), widht=3)


# ---------------------------------------------------------------- import-path models (bring your own)

GOOD_MODULE = """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self, num_classes, in_shape, hidden=7):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(int(torch.tensor(in_shape).prod()), hidden), nn.ReLU())
        self.head = nn.Linear(hidden, num_classes)

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.features(x))

def build(num_classes, in_shape, **kwargs):
    return Net(num_classes, in_shape, **kwargs)

class Factory:
    @staticmethod
    def make(num_classes, in_shape):
        return Net(num_classes, in_shape)

def not_a_module(num_classes, in_shape):
    return "a string"

def no_features(num_classes, in_shape):
    net = nn.Module()
    net.head = nn.Linear(3, num_classes)
    return net

def no_head(num_classes, in_shape):
    net = Net(num_classes, in_shape)
    del net.head
    return net

def head_not_linear(num_classes, in_shape):
    net = Net(num_classes, in_shape)
    net.head = nn.Sequential(nn.Linear(7, num_classes))
    return net

def wrong_width(num_classes, in_shape):
    net = Net(num_classes, in_shape)
    net.head = nn.Linear(9, num_classes)
    return net

class ThreeD(Net):
    def features(self, x):
        return self.body(x)[:, None, :]

def three_d(num_classes, in_shape):
    return ThreeD(num_classes, in_shape)

class Mismatch(Net):
    def forward(self, x):
        return 2 * self.head(self.features(x))

def mismatch(num_classes, in_shape):
    return Mismatch(num_classes, in_shape)

def bad_feature_dim(num_classes, in_shape):
    net = Net(num_classes, in_shape)
    net.feature_dim = 5
    return net

def no_in_shape(num_classes):
    return Net(num_classes, (4,))

NOT_CALLABLE = 3
"""


@pytest.fixture
def outside_module(tmp_path, monkeypatch):
    """A fresh module (unique name, so no sys.modules cache between tests) on sys.path."""
    name = f"outside_nets_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(GOOD_MODULE))
    (tmp_path / f"{name}_broken.py").write_text("import package_that_does_not_exist_fg\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def test_import_path_model_builds_and_gets_feature_dim(outside_module):
    rng_state = torch.get_rng_state()
    torch.manual_seed(0)
    model = build(f"{outside_module}:build", 3, (1, 4, 4), hidden=11)
    assert model.feature_dim == 11 and model.training  # checked in eval mode, handed back in train mode
    assert model.features(torch.randn(5, 1, 4, 4)).shape == (5, 11)
    nested = build(f"{outside_module}:Factory.make", 3, (4,))
    assert nested.feature_dim == 7
    torch.set_rng_state(rng_state)


def test_import_path_check_leaves_the_global_rng_alone(outside_module):
    torch.manual_seed(0)
    build(f"{outside_module}:build", 3, (4,))
    after_build = torch.rand(3)
    torch.manual_seed(0)
    from importlib import import_module

    import_module(outside_module).build(num_classes=3, in_shape=(4,))  # same construction, no check
    assert torch.equal(after_build, torch.rand(3))


@pytest.mark.parametrize(
    "attribute,pattern",
    [
        ("not_a_module", r"returned a str; expected a torch.nn.Module"),
        ("no_features", r"no callable attribute 'features'"),
        ("no_head", r"no attribute 'head'"),
        ("head_not_linear", r"'head' is a Sequential without an int 'in_features'"),
        ("wrong_width", r"returned \(2, 7\); expected a 2-D tensor of shape \(2, 9\)"),
        ("three_d", r"returned \(2, 1, 7\); expected a 2-D tensor of shape \(2, 7\)"),
        ("mismatch", r"forward\(x\) differs from head\(features\(x\)\)"),
        ("bad_feature_dim", r"feature_dim is 5 but head.in_features is 7"),
        ("no_in_shape", r"must accept keyword arguments num_classes and in_shape"),
        ("NOT_CALLABLE", r"'NOT_CALLABLE' is a int, not a callable"),
        ("missing_attr", r"has no attribute 'missing_attr'"),
    ],
)
def test_import_path_model_errors(outside_module, attribute, pattern):
    with pytest.raises(ValueError, match=pattern):
        build(f"{outside_module}:{attribute}", 3, (4,))


def test_import_path_missing_module_and_bad_form(outside_module):
    with pytest.raises(ValueError, match=r"cannot import module 'no_such_pkg_fg.nets'.*PYTHONPATH"):
        build("no_such_pkg_fg.nets:build", 3, (4,))
    with pytest.raises(ValueError, match=r"importing module .*_broken' failed.*package_that_does_not_exist_fg"):
        build(f"{outside_module}_broken:build", 3, (4,))
    for bad in (f"{outside_module}:", ":build", f"{outside_module}:a:b"):
        with pytest.raises(ValueError, match="package.module:callable"):
            build(bad, 3, (4,))


def test_check_model_accepts_every_builtin_model():
    for name, in_shape in [("mlp", (8,)), ("theory_net", (8,)), ("small_cnn", (1, 8, 8))]:
        check_model(build(name, 2, in_shape), in_shape)
