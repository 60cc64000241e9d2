"""Binary focal loss (Lin et al. 2017, "Focal Loss for Dense Object Detection"), one term per sigmoid head.

With p = sigmoid(z) and target y in {0, 1}:  p_t = p if y = 1 else 1 - p,  alpha_t = alpha if y = 1 else 1 - alpha,
FL = -alpha_t (1 - p_t)^gamma log(p_t).

-log(p_t) is taken from ``binary_cross_entropy_with_logits`` so the loss stays finite and its gradient right
for |z| of 100 and more. alpha weights the *positive* (flare) class: alpha = 0.25 down-weights positives, as in
the paper and in torchvision. gamma = 0 with alpha = None is exactly binary cross-entropy, so the CE baseline
is this same function's limit, not separate code; gamma = 0 with alpha = 0.25 is alpha-balanced BCE, not BCE.
``pos_weight`` multiplies the positive term only, as in ``BCEWithLogitsLoss(pos_weight=...)``: with gamma = 0 and
alpha = None the loss is exactly that BCE.

:func:`ordinal_focal_loss` is the same focal loss over one categorical outcome per forecast day instead of one
binary outcome per target: the window's peak class on that day (quiet, C, M or X), whose probability is a
difference of the nested probabilities an ordinal head gives (P(M exactly) = P(>=M) - P(X)). Cross-entropy
(gamma 0, alpha None) is then the likelihood of the cumulative-link model.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from flarecast.errors import ConfigError


def check_focal_params(alpha: float | None, gamma: float, pos_weight: float | torch.Tensor | None = None) -> None:
    """Raise :class:`ConfigError` unless alpha is None or in [0, 1], gamma >= 0 and pos_weight None or > 0."""
    if alpha is not None and not 0.0 <= float(alpha) <= 1.0:
        raise ConfigError(f"focal loss alpha = {alpha}: expected a number in [0, 1] or None (no class weighting)")
    if not float(gamma) >= 0.0:
        raise ConfigError(f"focal loss gamma = {gamma}: expected a number >= 0 (0 gives cross-entropy)")
    # A tensor already on a GPU is not read back (that would stall every batch); LossConfig checked its values.
    on_gpu = isinstance(pos_weight, torch.Tensor) and pos_weight.device.type != "cpu"
    if pos_weight is not None and not on_gpu and not bool(torch.all(torch.as_tensor(pos_weight) > 0.0)):
        raise ConfigError(f"pos_weight = {pos_weight}: expected a number > 0 or None (no positive weight)")


def binary_focal_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    *,
    alpha: float | None = None,
    gamma: float = 0.0,
    pos_weight: float | torch.Tensor | None = None,
    head_weights: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    """Binary focal loss from logits, elementwise over ``[batch, heads]`` (or any shape).

    Parameters
    ----------
    logits, targets : Tensor
        Same shape; targets are 0/1 floats.
    alpha : float in [0, 1] or None, keyword-only
        Weight of the positive class (negatives get 1 - alpha). None applies no class weight.
    gamma : float >= 0, keyword-only
        Focusing parameter; 0 turns the modulating factor off.
    pos_weight : float > 0, Tensor of shape [heads] or None, keyword-only
        Extra weight of every positive's term (negatives keep 1), ``BCEWithLogitsLoss``'s ``pos_weight``;
        a tensor gives each head (last dimension) its own weight.
    head_weights : Tensor of shape [heads], optional
        Per-head weight, broadcast over the last dimension.
    reduction : {"mean", "sum", "none"}

    Examples
    --------
    >>> z = torch.tensor([2.1972246])  # p = 0.9
    >>> round(binary_focal_loss(z, torch.ones(1), gamma=2.0).item(), 7)  # 0.01 * ln(1/0.9)
    0.0010536
    """
    check_focal_params(alpha, gamma, pos_weight)
    if reduction not in ("mean", "sum", "none"):
        raise ConfigError(f"reduction = {reduction!r}: expected one of ['mean', 'sum', 'none']")
    targets = targets.to(logits.dtype)
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")  # = -log(p_t)
    loss = ce
    if gamma != 0:
        p = torch.sigmoid(logits)
        p_t = p * targets + (1 - p) * (1 - targets)
        loss = loss * (1 - p_t).pow(gamma)
    if alpha is not None:
        loss = loss * (alpha * targets + (1 - alpha) * (1 - targets))
    if pos_weight is not None:
        pos_weight = torch.as_tensor(pos_weight, dtype=loss.dtype, device=loss.device)
        loss = loss * (pos_weight * targets + (1 - targets))
    if head_weights is not None:
        loss = loss * head_weights.to(loss.dtype)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def ordinal_focal_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    chains: list[list[int]],
    *,
    alpha: float | None = None,
    gamma: float = 0.0,
    reduction: str = "mean",
) -> torch.Tensor:
    """Focal loss of each window's peak class per chain (forecast day), from nested logits ``[batch, targets]``.

    Parameters
    ----------
    logits : Tensor
        Logits whose sigmoids are non-increasing along each chain (an ordinal head:
        :func:`flarecast.model.network.ordinal_logits`); a violation would give a negative class probability,
        which is floored at 1e-12.
    targets : Tensor
        0/1 floats of the same shape, nested along each chain; the peak class is the number of positives.
    chains : list of lists of int
        Column indices per forecast day, lowest class first (:func:`flarecast.classes.nested`).
    alpha : float in [0, 1] or None, keyword-only
        Weight of a window with an event of the chain's lowest class (quiet windows get 1 - alpha).
    gamma : float >= 0, keyword-only
        Focusing parameter on the peak class's probability.
    reduction : {"mean", "sum", "none"}
        ``none`` gives ``[batch, chains]``.

    Examples
    --------
    >>> z = torch.tensor([[0.0, -1e4]])  # P(>=C) = 0.5, P(>=M) = 0
    >>> round(ordinal_focal_loss(z, torch.tensor([[1.0, 0.0]]), [[0, 1]]).item(), 6)  # -ln P(C exactly) = ln 2
    0.693147
    """
    check_focal_params(alpha, gamma)
    if reduction not in ("mean", "sum", "none"):
        raise ConfigError(f"reduction = {reduction!r}: expected one of ['mean', 'sum', 'none']")
    targets = targets.to(logits.dtype)
    terms = []
    for chain in chains:
        p = torch.sigmoid(logits[:, chain])  # [batch, K] cumulative, non-increasing
        ones, zeros = torch.ones_like(p[:, :1]), torch.zeros_like(p[:, :1])
        upper = torch.cat([ones, p], dim=1)  # P(class >= k), k = 0..K
        lower = torch.cat([p, zeros], dim=1)  # P(class >= k + 1)
        prob = (upper - lower).clamp_min(1e-12)  # [batch, K + 1]: P(class = k)
        peak = targets[:, chain].sum(dim=1).round().long().clamp(0, len(chain))
        p_t = prob.gather(1, peak[:, None])[:, 0]
        loss = -torch.log(p_t)
        if gamma != 0:
            loss = loss * (1 - p_t).pow(gamma)
        if alpha is not None:
            event = (peak > 0).to(loss.dtype)
            loss = loss * (alpha * event + (1 - alpha) * (1 - event))
        terms.append(loss)
    loss = torch.stack(terms, dim=1)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
