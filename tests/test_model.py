import pytest
import torch

from flarecast.config import ModelConfig
from flarecast.errors import ModelError
from flarecast.model.network import TemporalCNN, levels_for, receptive_field


def test_receptive_field_formula_and_auto_levels():
    assert receptive_field(3, 1) == 5  # two convs of kernel 3, dilation 1
    assert receptive_field(3, 5) == 1 + 2 * 2 * 31
    assert levels_for(96, 3) == 5 and receptive_field(3, 4) < 96 <= receptive_field(3, 5)


def test_last_output_depends_on_first_input_step():
    torch.manual_seed(0)
    m = TemporalCNN(3, 2, 96, ModelConfig(dropout=0.0)).eval()
    x = torch.randn(1, 3, 96, requires_grad=True)
    m.blocks(x)[0, :, -1].sum().backward()
    assert x.grad[0, :, 0].abs().sum() > 0  # the receptive field covers the whole window


def test_one_logit_per_target():
    m = TemporalCNN(5, 3, 96, ModelConfig(hidden=8))
    assert m(torch.randn(4, 5, 96)).shape == (4, 3)
    assert m.n_parameters() == sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("shape", [(4, 5, 95), (4, 5, 192), (4, 4, 96), (5, 96)])
def test_the_network_refuses_windows_of_another_length_or_channel_count(shape):
    """Issue 22: pooling over time took a window of any length, so samples built with another window than the
    card's were forecast silently; the network now checks the input it gets."""
    m = TemporalCNN(5, 3, 96, ModelConfig(hidden=8))
    with pytest.raises(ModelError, match=r"5 channels x 96 steps .* got shape"):
        m(torch.randn(*shape))
