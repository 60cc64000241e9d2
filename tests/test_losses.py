import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from flarecast.errors import ConfigError
from flarecast.train.losses import binary_focal_loss


def logit(p: float) -> float:
    return math.log(p / (1 - p))


@pytest.mark.parametrize(
    ("p_t", "expected"),
    [
        # gamma = 2, no alpha: (1 - p_t)^2 * -ln(p_t), natural logarithm.
        (0.9, 0.01 * -math.log(0.9)),  # = 0.0010536 (not 0.00046, which mixes log10 and ln)
        (0.1, 0.81 * -math.log(0.1)),  # = 1.8651
    ],
)
@pytest.mark.parametrize("y", [0.0, 1.0])
def test_focal_hand_values(p_t, expected, y):
    z = logit(p_t) if y == 1 else -logit(p_t)  # p_t is p for positives and 1 - p for negatives
    got = binary_focal_loss(torch.tensor([z], dtype=torch.float64), torch.tensor([y], dtype=torch.float64), gamma=2.0)
    assert got.item() == pytest.approx(expected, rel=1e-9)


def test_hand_values_to_printed_precision():
    z = torch.tensor([logit(0.9), logit(0.1)], dtype=torch.float64)
    vals = binary_focal_loss(z, torch.ones(2, dtype=torch.float64), gamma=2.0, reduction="none")
    assert round(vals[0].item(), 7) == 0.0010536
    assert round(vals[1].item(), 4) == 1.8651


def test_gamma_zero_without_alpha_is_bce():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(1000, 3, generator=g) * 5
    y = (torch.rand(1000, 3, generator=g) < 0.3).float()
    ours = binary_focal_loss(z, y, alpha=None, gamma=0.0)
    ref = F.binary_cross_entropy_with_logits(z, y)
    assert abs(ours.item() - ref.item()) < 1e-7


def test_alpha_weights_positives_and_negatives_separately():
    z = torch.tensor([0.3, 0.3], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0], dtype=torch.float64)
    plain = binary_focal_loss(z, y, gamma=2.0, reduction="none")
    weighted = binary_focal_loss(z, y, alpha=0.25, gamma=2.0, reduction="none")
    # alpha multiplies positives, 1 - alpha negatives (the paper's and torchvision's convention).
    assert weighted[0].item() == pytest.approx(0.25 * plain[0].item())
    assert weighted[1].item() == pytest.approx(0.75 * plain[1].item())


def test_gamma_zero_alpha_is_balanced_bce_not_bce():
    z = torch.tensor([1.0, -2.0])
    y = torch.tensor([1.0, 1.0])
    assert not torch.isclose(binary_focal_loss(z, y, alpha=0.25), F.binary_cross_entropy_with_logits(z, y))


@pytest.mark.parametrize("z", [100.0, -100.0])
@pytest.mark.parametrize("y", [0.0, 1.0])
def test_finite_with_right_gradient_sign_at_large_logits(z, y):
    x = torch.tensor([z], requires_grad=True)
    loss = binary_focal_loss(x, torch.tensor([y]), alpha=0.25, gamma=2.0)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(x.grad).all()
    wrong = (z > 0) != (y == 1)  # confidently wrong: loss large, gradient pushes z toward the target
    if wrong:
        assert loss.item() > 1.0
        assert (x.grad.item() > 0) == (y == 0)
    else:
        assert loss.item() < 1e-30


def test_gradient_matches_autograd_of_textbook_formula():
    g = torch.Generator().manual_seed(1)
    z = (torch.randn(200, generator=g, dtype=torch.float64) * 3).requires_grad_()
    y = (torch.rand(200, generator=g, dtype=torch.float64) < 0.5).double()
    alpha, gamma = 0.25, 2.0
    binary_focal_loss(z, y, alpha=alpha, gamma=gamma, reduction="sum").backward()
    ours = z.grad.clone()
    z.grad = None
    p = torch.sigmoid(z)
    p_t = torch.where(y == 1, p, 1 - p)
    a_t = torch.where(y == 1, torch.full_like(p, alpha), torch.full_like(p, 1 - alpha))
    (-a_t * (1 - p_t) ** gamma * torch.log(p_t)).sum().backward()
    np.testing.assert_allclose(ours.numpy(), z.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_head_weights_scale_each_head():
    z = torch.zeros(4, 2)
    y = torch.ones(4, 2)
    per = binary_focal_loss(z, y, gamma=1.0, head_weights=torch.tensor([1.0, 3.0]), reduction="none")
    assert torch.allclose(per[:, 1], 3 * per[:, 0])


@pytest.mark.parametrize(("alpha", "gamma"), [(1.5, 2.0), (-0.1, 2.0), (0.25, -1.0)])
def test_out_of_range_parameters_raise(alpha, gamma):
    with pytest.raises(ConfigError, match="alpha|gamma"):
        binary_focal_loss(torch.zeros(1), torch.ones(1), alpha=alpha, gamma=gamma)


def test_pos_weight_with_gamma_zero_and_no_alpha_is_torch_bce_pos_weight():
    g = torch.Generator().manual_seed(2)
    z = torch.randn(500, 3, generator=g, dtype=torch.float64) * 4
    y = (torch.rand(500, 3, generator=g, dtype=torch.float64) < 0.1).double()
    ours = binary_focal_loss(z, y, pos_weight=9.0)
    ref = F.binary_cross_entropy_with_logits(z, y, pos_weight=torch.tensor(9.0, dtype=torch.float64))
    assert ours.item() == pytest.approx(ref.item(), rel=1e-12)
    assert abs(ours.item() - binary_focal_loss(z, y).item()) > 0.1  # the weight did something


def test_pos_weight_scales_only_positive_terms_under_focal():
    z = torch.tensor([0.3, 0.3], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0], dtype=torch.float64)
    plain = binary_focal_loss(z, y, alpha=0.25, gamma=2.0, reduction="none")
    weighted = binary_focal_loss(z, y, alpha=0.25, gamma=2.0, pos_weight=4.0, reduction="none")
    assert weighted[0].item() == pytest.approx(4.0 * plain[0].item())
    assert weighted[1].item() == pytest.approx(plain[1].item())


@pytest.mark.parametrize("pos_weight", [0.0, -2.0])
def test_non_positive_pos_weight_raises(pos_weight):
    with pytest.raises(ConfigError, match="pos_weight"):
        binary_focal_loss(torch.zeros(1), torch.ones(1), pos_weight=pos_weight)


def test_loss_config_validates_pos_weight_and_names_it_in_the_label():
    from flarecast.config import LossConfig

    assert LossConfig(pos_weight=9.0).label == "CE(pos_weight=9)"
    assert LossConfig().label == "CE"
    with pytest.raises(ConfigError, match="pos_weight = 0"):
        LossConfig(pos_weight=0.0)


def test_per_head_pos_weight_is_torch_bce_with_a_pos_weight_vector():
    g = torch.Generator().manual_seed(3)
    z = torch.randn(400, 2, generator=g, dtype=torch.float64) * 3
    y = (torch.rand(400, 2, generator=g, dtype=torch.float64) < 0.2).double()
    w = torch.tensor([4.0, 60.0], dtype=torch.float64)
    ours = binary_focal_loss(z, y, pos_weight=w)
    ref = F.binary_cross_entropy_with_logits(z, y, pos_weight=w)
    assert ours.item() == pytest.approx(ref.item(), rel=1e-12)
    with pytest.raises(ConfigError, match="pos_weight"):
        binary_focal_loss(z, y, pos_weight=torch.tensor([4.0, 0.0]))


def test_loss_config_takes_one_pos_weight_per_target_and_checks_the_names():
    from flarecast.config import LossConfig, load_config

    cfg = LossConfig(pos_weight={">=M": 38.5, "X": 570.0})
    assert cfg.label == "CE(pos_weight=>=M:38.5 X:570)"
    assert cfg.pos_weights(["X", ">=M"]) == [570.0, 38.5]
    assert LossConfig(pos_weight=9.0).pos_weights([">=M", "X"]) == [9.0, 9.0]
    with pytest.raises(ConfigError, match=r"missing \['X'\]"):
        LossConfig(pos_weight={">=M": 38.5}).pos_weights([">=M", "X"])
    with pytest.raises(ConfigError, match="pos_weight"):
        LossConfig(pos_weight={">=M": 38.5, "X": -1.0})
    # From a YAML override, as the CLI passes it.
    from pathlib import Path

    run = load_config(Path(__file__).parents[1] / "configs" / "real-goes-hourly.yaml", ['train.loss.pos_weight={">=M": 4, X: 50}'])
    assert run.train.loss.pos_weight == {">=M": 4.0, "X": 50.0}
