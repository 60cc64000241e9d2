"""Inference on the CPU without torch: the temporal CNN, the logistic members and the ensemble, evaluated with numpy
from the same verified card and weights that :func:`flarecast.model.modeldir.load_model` gives torch.

A cold ``flarecast forecast`` would spend about two seconds importing torch to run one small network on one
window; this path imports numpy only. It follows the one definition of the layers
(:func:`flarecast.model.layers.architecture`), as :class:`~flarecast.model.network.TemporalCNN` does, computes
as torch's CPU path does, in float32 (one matrix product per convolution over every window of a batch; the
normalisation's sums and the head in float64), agrees with torch to within 3e-6 and returns float32
probabilities, as :func:`flarecast.model.inference.predict` does. The ensemble's blend and calibration are
:class:`~flarecast.model.calibration.EnsembleHead`'s, shared with the torch ensemble. Training, CUDA and anything
that needs gradients stay on torch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from flarecast.classes import nested
from flarecast.errors import ModelError
from flarecast.model.calibration import EnsembleHead
from flarecast.model.card import EnsembleCard, ModelCard
from flarecast.model.layers import (
    GROUPNORM_EPS,
    Architecture,
    Conv,
    Dropout,
    Gelu,
    Layer,
    Linear,
    Norm,
    input_refusal,
)
from flarecast.model.modeldir import CARD, card_architecture, inside, verified_card
from flarecast.model.window_stats import check_parts, read_linear, window_stats

_ONE_BLAS_THREAD_FROM = 64
"""Windows from which the network's matrix products run on one BLAS thread (:func:`_one_blas_thread`)."""
_ERF_STEP = 1 / 256
_ERF_TOP = 6.0  # erf(6) = 1 - 2e-17: 1 in float64


class NumpyNet:
    """The temporal CNN of ``arch`` with the weights ``tensors`` (the state dict, by torch's names)."""

    def __init__(self, arch: Architecture, tensors: dict[str, np.ndarray], *, kind: str = "independent",
                 chains: list[list[int]] | tuple = ()):
        have, want = {k: tuple(v.shape) for k, v in tensors.items()}, arch.shapes()
        if have != want:
            k = (sorted(set(want) ^ set(have)) or [k for k in sorted(want) if want[k] != have[k]])[0]
            raise ModelError(f"tensor {k}: the weights hold {have.get(k, 'none')}, the network's layers need "
                             f"{want.get(k, 'none')}: card and weights belong to different models")
        self.arch = arch
        self.params = {k: np.asarray(v, dtype=np.float64 if k.startswith("head.") else np.float32)
                       for k, v in tensors.items()}
        self.n_targets = arch.head[-1].n_out
        self.kind, self.chains = kind, [list(c) for c in chains]  # the head (model.head), as TemporalCNN's

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Logits ``[batch, targets]`` (float64) of windows ``x`` ``[batch, channels, steps]``.

        The activations are held channel first across the batch, ``[channel, window, step]``, so that a
        convolution is one matrix product over every window at once, in float32 as torch computes it on the CPU
        (in float64 a forecast over many issue times took twice as long); the pooled features and the head are
        float64.
        """
        a = self.arch
        if x.ndim != 3 or tuple(x.shape[1:]) != (a.n_channels, a.window_steps):
            raise ModelError(input_refusal(a.n_channels, a.window_steps, tuple(x.shape)))
        h = np.asarray(x, dtype=np.float32).transpose(1, 0, 2).copy()
        for i, block in enumerate(a.blocks):
            y = self._run(block.net, h, f"blocks.{i}.net.")
            y += h if block.skip is None else self._layer(block.skip, h, f"blocks.{i}.skip")
            h = gelu(y)
        pooled = np.concatenate([h.mean(axis=2, dtype=np.float64), h.max(axis=2)], axis=0).T  # [window, 2 x ch]
        return ordinal_logits(self._run(a.head, pooled, "head."), self.chains, self.kind)

    def _run(self, layers: tuple[Layer, ...], x: np.ndarray, prefix: str) -> np.ndarray:
        for j, layer in enumerate(layers):
            x = self._layer(layer, x, f"{prefix}{j}")
        return x

    def _layer(self, layer: Layer, x: np.ndarray, name: str) -> np.ndarray:
        p = self.params
        if isinstance(layer, Conv):
            return conv1d(x, p[f"{name}.weight"], p[f"{name}.bias"], layer.dilation, layer.padding)
        if isinstance(layer, Norm):
            return group_norm(x, p[f"{name}.weight"], p[f"{name}.bias"])
        if isinstance(layer, Gelu):
            return gelu(x)
        if isinstance(layer, Dropout):
            return x  # inference
        if isinstance(layer, Linear):
            return x @ p[f"{name}.weight"].T + p[f"{name}.bias"]
        raise ModelError(f"no numpy evaluation for layer {layer!r}")  # a layer added to layers.py and not here


class NumpyLogistic:
    """A logistic member (:class:`~flarecast.model.linear.WindowLogistic`) in numpy: the same float64 sums."""

    def __init__(self, mean: np.ndarray, scale: np.ndarray, coef: np.ndarray, intercept: np.ndarray):
        check_parts(mean, scale, coef, intercept)
        self.mean, self.scale, self.coef, self.intercept = (np.asarray(a, dtype=np.float64)
                                                            for a in (mean, scale, coef, intercept))
        self.n_targets = int(coef.shape[0])

    def logits(self, x: np.ndarray) -> np.ndarray:
        return ((window_stats(x) - self.mean) / self.scale) @ self.coef.T + self.intercept


class NumpyEnsemble(EnsembleHead):
    """Member networks (and logistic members) whose probabilities are averaged, blended and calibrated."""

    def __init__(self, members: list[NumpyNet], card: EnsembleCard, linear: list[NumpyLogistic]):
        if not members:
            raise ModelError("an ensemble needs at least one member model")
        chains = nested(card.targets) if card.run_config().model.head != "independent" else ()
        super().__init__(card.targets, card.calibration, linear=bool(linear),
                         blend=card.blend.weights if card.blend is not None else None, chains=chains)
        self.members, self.linear = members, linear


def load_numpy_model(model_dir: str | Path, *, trust_modified: bool = False
                     ) -> tuple[NumpyNet | NumpyEnsemble, ModelCard]:
    """The model of ``model_dir`` for :func:`predict_numpy`, after every check
    :func:`~flarecast.model.modeldir.load_model` makes (:func:`~flarecast.model.modeldir.verified_card`)."""
    model_dir = Path(model_dir)
    card, tensors = verified_card(model_dir, trust_modified=trust_modified)
    if not isinstance(card, EnsembleCard):
        kind = card.run_config(str(model_dir / CARD)).model.head
        chains = nested(card.targets) if kind != "independent" else []
        return NumpyNet(card_architecture(card, model_dir / CARD), tensors, kind=kind, chains=chains), card
    members = [load_numpy_model(inside(model_dir, m.dir, "member dir"), trust_modified=trust_modified)[0]
               for m in card.members]
    blend = card.blend
    linear = [NumpyLogistic(*parts) for parts in read_linear(inside(model_dir, blend.file, "blend.file"),
                                                             blend.folds)] if blend is not None else []
    return NumpyEnsemble(members, card, linear), card


def predict_numpy(model: NumpyNet | NumpyLogistic | NumpyEnsemble, inputs, idx: np.ndarray, *,
                  batch_size: int = 512) -> np.ndarray:
    """Probabilities ``[len(idx), targets]`` (float32) for windows ``idx`` of ``inputs`` (anything with
    ``gather(idx) -> [batch, channel, step]``), as :func:`flarecast.model.inference.predict` gives them for the
    same model in torch."""
    nets = model.members if isinstance(model, NumpyEnsemble) else [model]
    linear = model.linear if isinstance(model, NumpyEnsemble) else []
    idx = np.asarray(idx, dtype=np.int64)
    out, out_linear = [], []
    with _one_blas_thread(idx.size):
        for s in range(0, idx.size, batch_size):
            x = inputs.gather(idx[s : s + batch_size])
            out.append(_mean_sigmoid(nets, x))
            if linear:
                out_linear.append(_mean_sigmoid(linear, x))
    probs = np.concatenate(out) if out else np.zeros((0, nets[0].n_targets))
    if not isinstance(model, NumpyEnsemble):
        return probs.astype(np.float32)
    linear_p = np.concatenate(out_linear) if out_linear else np.zeros(probs.shape)
    return model.forecast(probs, linear_p)


@contextmanager
def _one_blas_thread(n_windows: int) -> Iterator[None]:
    """numpy's BLAS on one thread while many windows are evaluated. The elementwise layers (GELU, norms) run on one
    thread anyway, and between two matrix products OpenBLAS's idle threads spin: on the 2-core dev machine shared
    with other jobs (load 4) 1,000 issue times took 1.0-1.1 ms each on one BLAS thread against 2.5-2.7 ms on two.
    A few windows are left alone (their products are too small to be threaded, and threadpoolctl costs ~10 ms
    to load)."""
    if n_windows < _ONE_BLAS_THREAD_FROM:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield


def _mean_sigmoid(members, x: np.ndarray) -> np.ndarray:
    return sum(sigmoid(m.logits(x)) for m in members) / len(members)


def ordinal_logits(raw: np.ndarray, chains: list[list[int]], kind: str) -> np.ndarray:
    """:func:`flarecast.model.network.ordinal_logits` in numpy: logits whose sigmoids are non-increasing along
    each chain of nested targets (``cumulative``: each class's logit the one below minus a softplus step;
    ``chain``: the running sum of log-sigmoids, back to a logit); ``raw`` unchanged for ``independent``."""
    if kind == "independent":
        return raw
    out = np.array(raw, dtype=np.float64, copy=True)
    for chain in chains:
        if kind == "cumulative":
            z = out[:, chain[0]].copy()
            for j in chain[1:]:
                z = z - np.logaddexp(0.0, raw[:, j])
                out[:, j] = z
        else:
            log_p = np.zeros(raw.shape[0])
            for j in chain:
                log_p = log_p - np.logaddexp(0.0, -raw[:, j])
                out[:, j] = _logit_of_log(log_p)
    return out


def _logit_of_log(log_p: np.ndarray) -> np.ndarray:
    """logit(p) from log p, stably on both sides of p = 1/2 (as the torch head computes it)."""
    log_p = np.minimum(log_p, -1e-7)
    with np.errstate(divide="ignore"):
        log_1mp = np.where(log_p > -0.6931, np.log(-np.expm1(log_p)), np.log1p(-np.exp(log_p)))
    return log_p - log_1mp


def sigmoid(z: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-z))`` without overflow for any z."""
    return np.exp(-np.logaddexp(0.0, -z))


def conv1d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, dilation: int, padding: int) -> np.ndarray:
    """torch's ``conv1d`` (cross-correlation, zero padding on both sides) of ``x`` ``[c_in, windows, steps]``
    (channel first) with ``weight`` ``[c_out, c_in, k]``: ``[c_out, windows, steps']``, as one matrix product of
    the weights and the k shifted copies of the input stacked by channel."""
    c_out, c_in, k = weight.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding))) if padding else x
    length = x.shape[2] + 2 * padding - dilation * (k - 1)
    cols = np.concatenate([xp[:, :, j * dilation : j * dilation + length] for j in range(k)], axis=0)
    out = (weight.transpose(0, 2, 1).reshape(c_out, k * c_in) @ cols.reshape(k * c_in, -1)).reshape(
        c_out, *cols.shape[1:])
    out += bias[:, None, None]
    return out


def group_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """``GroupNorm(1, channels)`` of ``x`` ``[channel, window, step]``: each window normalised over all its
    channels and steps (biased variance), then scaled and shifted per channel. The mean and the variance are
    summed in float64 whatever the dtype of ``x``."""
    centred = x - x.mean(axis=(0, 2), keepdims=True, dtype=np.float64).astype(x.dtype)
    var = np.square(centred).mean(axis=(0, 2), keepdims=True, dtype=np.float64)
    centred *= (1.0 / np.sqrt(var + GROUPNORM_EPS)).astype(x.dtype)
    centred *= weight[:, None, None]
    centred += bias[:, None, None]
    return centred


def gelu(x: np.ndarray) -> np.ndarray:
    """The exact GELU, ``x (1 + erf(x / sqrt 2)) / 2`` (torch's ``nn.GELU()``)."""
    out = erf(x * x.dtype.type(1.0 / math.sqrt(2.0)))
    out += 1.0
    out *= x
    out *= 0.5
    return out


def _erf_table() -> tuple[np.ndarray, ...]:
    """Per grid interval, the cubic in t (0 to 1 across it) through erf and its derivative at both ends
    (Hermite): the coefficients of 1, t, t**2 and t**3."""
    z = np.arange(int(_ERF_TOP / _ERF_STEP) + 2) * _ERF_STEP
    f = np.array([math.erf(v) for v in z])
    d = 2.0 / math.sqrt(math.pi) * np.exp(-z * z) * _ERF_STEP
    f0, f1, d0, d1 = f[:-1], f[1:], d[:-1], d[1:]
    return f0, d0, 3.0 * (f1 - f0) - 2.0 * d0 - d1, 2.0 * (f0 - f1) + d0 + d1


_ERF = _erf_table()
_ERF32 = tuple(c.astype(np.float32) for c in _ERF)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, to within 3e-12 (numpy has none, and scipy costs half a second to import): cubic
    Hermite interpolation of ``math.erf`` and its derivative on a grid of step 1/256 over [0, 6] (error at most
    step**4 / 384 x the largest fourth derivative), odd, 1 beyond 6, NaN for NaN. A float32 ``x`` is computed
    in float32 (to float32's rounding, 6e-8)."""
    f32 = x.dtype == np.float32
    t = np.abs(x)
    np.minimum(t, _ERF_TOP, out=t)
    t *= t.dtype.type(1.0 / _ERF_STEP)
    with np.errstate(invalid="ignore"):  # NaN: any index (clipped below); t stays NaN, and so does the result
        k = t.astype(np.intp)
    t -= k
    c0, c1, c2, c3 = (np.take(c, k, mode="clip") for c in (_ERF32 if f32 else _ERF))
    y = c3
    for c in (c2, c1, c0):  # Horner, in place
        y *= t
        y += c
    return np.copysign(y, x, out=y)
