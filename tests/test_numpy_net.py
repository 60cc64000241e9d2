"""The numpy forward (flarecast.model.numpy_net) against torch: the same layers, the same probabilities, from the
same weights file; and a forecast on the CPU that never imports torch."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from flarecast.config import ModelConfig
from flarecast.errors import ModelError
from flarecast.forecast.issue import forecast
from flarecast.forecast.request import Inputs, IssueTimes
from flarecast.model.inference import predict
from flarecast.model.layers import Conv, Dropout, Gelu, Linear, Norm, architecture
from flarecast.model.modeldir import load_model
from flarecast.model.network import TemporalCNN
from flarecast.model.numpy_net import NumpyNet, erf, load_numpy_model, predict_numpy


class Windows:
    def __init__(self, x):
        self.x = x

    def gather(self, idx):
        return self.x[idx]


def _perturbed(net: TemporalCNN, seed: int) -> TemporalCNN:
    """Every parameter moved off its initial value (GroupNorm's scale 1 and shift 0 included), so that no layer's
    contribution is invisible."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=gen))
    return net.eval()


TORCH_OF = {Conv: torch.nn.Conv1d, Norm: torch.nn.GroupNorm, Gelu: torch.nn.GELU, Dropout: torch.nn.Dropout,
            Linear: torch.nn.Linear}

# Every option of the model config: width, kernel, explicit or automatic levels (one level's receptive field
# shorter than the window), dropout (off at inference); channel counts below, equal to (no 1x1 skip) and above
# the width.
CASES = [
    (5, 24, ModelConfig()),
    (3, 96, ModelConfig(hidden=16, kernel_size=5, dropout=0.5)),
    (8, 48, ModelConfig(hidden=8, kernel_size=3, levels=1, dropout=0.0)),
    (12, 30, ModelConfig(hidden=6, kernel_size=7, levels=2)),
]


@pytest.mark.parametrize(("channels", "steps", "cfg"), CASES)
def test_the_numpy_network_gives_torchs_probabilities_for_every_model_option(channels, steps, cfg):
    torch.manual_seed(0)
    net = _perturbed(TemporalCNN(channels, 3, steps, cfg), seed=1)
    arch = architecture(channels, 3, steps, cfg)
    # One definition: the torch module is built from the layer list, tensor by tensor and module by module.
    assert arch.shapes() == {k: tuple(v.shape) for k, v in net.state_dict().items()}
    for block, module in zip(arch.blocks, net.blocks, strict=True):
        assert [TORCH_OF[type(layer)] for layer in block.net] == [type(m) for m in module.net]
        conv = module.net[0]
        assert (conv.kernel_size[0], conv.dilation[0], conv.padding[0]) == (block.net[0].kernel, block.net[0].dilation,
                                                                            block.net[0].padding)
        assert (block.skip is None) == isinstance(module.skip, torch.nn.Identity)
    rng = np.random.default_rng(2)
    x = Windows((rng.normal(size=(96, channels, steps)) * rng.choice([0.1, 1.0, 5.0], size=(96, 1, 1)))
                .astype(np.float32))
    mine = NumpyNet(arch, {k: v.numpy() for k, v in net.state_dict().items()})
    got = predict_numpy(mine, x, np.arange(96), batch_size=64)
    want = predict(net, x, np.arange(96), batch_size=64)  # torch on the CPU: float32
    assert got.dtype == np.float32 and got.shape == want.shape == (96, 3)
    assert 0.01 < want.std()  # the probabilities vary: a network that ignored its input would pass otherwise
    np.testing.assert_allclose(got, want, rtol=0, atol=3e-6)  # float32 rounding of logits up to ~30
    # The same arithmetic: torch in float64 gives the numpy path's logits to float32's rounding (numpy computes
    # the convolutions in float32, as torch does on the CPU; a wrong layer would be off by far more).
    with torch.no_grad():
        exact = net.double()(torch.from_numpy(x.x).double()).numpy()
    np.testing.assert_allclose(mine.logits(x.x), exact, rtol=1e-5, atol=2e-5)
    with pytest.raises(ModelError, match=rf"{channels} channels x {steps} steps .* got shape"):
        mine.logits(x.x[:, :, :-1])


def test_the_numpy_network_refuses_tensors_of_another_network():
    net = TemporalCNN(5, 2, 24, ModelConfig(hidden=8))
    state = {k: v.numpy() for k, v in net.state_dict().items()}
    with pytest.raises(ModelError, match="different models"):
        NumpyNet(architecture(5, 2, 24, ModelConfig(hidden=16)), state)


def test_erf_is_maths_erf_to_within_3e_12():
    x = np.concatenate([np.linspace(-8, 8, 100_001), [0.0, -0.0, 6.0, -6.0, 1e-300, np.inf, -np.inf]])
    want = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(erf(x), want, rtol=0, atol=3e-12)
    assert np.isnan(erf(np.array([np.nan]))).all()
    assert np.array_equal(np.signbit(erf(np.array([-1e-3, 1e-3]))), [True, False])  # odd


def test_a_saved_model_forecasts_the_same_through_numpy_and_torch(tiny_model, sim_store):
    """The file path: the weights read as numpy arrays give the probabilities the torch model loaded from them
    gives, for every issue time of a month, and the forecast documents agree row for row."""
    net, card = load_numpy_model(tiny_model)
    model, card_t = load_model(tiny_model)
    assert card == card_t
    rng = np.random.default_rng(3)
    x = Windows(rng.normal(size=(100, len(card.channels), card.window_steps)).astype(np.float32))
    np.testing.assert_allclose(predict_numpy(net, x, np.arange(100)), predict(model, x, np.arange(100)), atol=1e-6)
    times = IssueTimes(start="2018-01-05T00:00:00", end="2018-02-05T00:00:00", every="6h")
    cpu = forecast(tiny_model, Inputs(store=sim_store), times, skip_refused=True, device="cpu")
    torch_doc = forecast(tiny_model, Inputs(store=sim_store), times, skip_refused=True, device="auto")
    assert len(cpu["forecasts"]) > 100 and cpu["refused"] == torch_doc["refused"]
    for a, b in zip(cpu["forecasts"], torch_doc["forecasts"], strict=True):
        assert abs(a["probability"] - b["probability"]) < 1e-6
        assert {k: v for k, v in a.items() if k != "probability"} == {k: v for k, v in b.items() if k != "probability"}


def test_flarecast_forecast_on_the_cpu_never_imports_torch(tiny_model, sim_store, tmp_path):
    out = tmp_path / "f.json"
    code = ("import sys\nfrom flarecast.cli import app\n"
            f"sys.argv = ['flarecast', 'forecast', {str(tiny_model)!r}, '--store', {str(sim_store)!r}, '--latest', "
            f"'--out', {str(out)!r}]\n"
            "try:\n    app()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
            "heavy = sorted(m for m in ('torch', 'sklearn', 'scipy', 'matplotlib', 'dask', 'xarray') if m in sys.modules)\n"
            "print('IMPORTED', heavy)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "IMPORTED []" in run.stdout, run.stdout
    doc = json.loads(out.read_text())
    want = forecast(tiny_model, Inputs(store=sim_store), IssueTimes(latest=True), device="auto")
    assert [r["probability"] for r in doc["forecasts"]] == pytest.approx(
        [r["probability"] for r in want["forecasts"]], abs=1e-6)



@pytest.mark.parametrize("head", ["cumulative", "chain"])
def test_the_numpy_network_gives_torchs_probabilities_for_the_ordinal_heads(head):
    # Two forecast days of nested classes: the numpy head must tie them as the torch head does, so a forecast
    # through numpy is as coherent (P(X) <= P(>=M) <= P(>=C) per day) and equals torch's.
    from flarecast.classes import nested

    targets = [">=C@d1", ">=M@d1", "X@d1", ">=C@d2", ">=M@d2", "X@d2"]
    cfg = ModelConfig(hidden=8, head=head)
    torch.manual_seed(0)
    net = _perturbed(TemporalCNN(4, len(targets), 24, cfg, targets=targets), seed=5)
    mine = NumpyNet(architecture(4, len(targets), 24, cfg), {k: v.numpy() for k, v in net.state_dict().items()},
                    kind=head, chains=nested(targets))
    rng = np.random.default_rng(7)
    x = Windows((rng.normal(size=(64, 4, 24)) * 3).astype(np.float32))
    got = predict_numpy(mine, x, np.arange(64))
    np.testing.assert_allclose(got, predict(net, x, np.arange(64)), rtol=0, atol=3e-6)
    for chain in nested(targets):
        assert (np.diff(got[:, chain].astype(np.float64), axis=1) <= 1e-7).all()
