"""Attribution maps at the network input, each computed by Captum.

:func:`attribute` answers "which input pixels pushed the score of class ``target`` up,
and which pushed it down?" for one model-ready input, with one of :data:`METHODS`:

- ``"occlusion"``: Captum's ``Occlusion``. Each window of the input is set to the
  background (what a blank drawing gives: 0 for the 28×28 inputs, −1 for the toy's ±1
  grid) and the score's drop is the window's attribution, averaged over the windows
  that hold a pixel. All windows go through the network in one batch, and only the
  windows that touch ink (a window of background occludes nothing). Windows are 3×3
  with stride 1 on 28×28 inputs (about a stroke's width; 1×1 and 2×2 erased less of
  the answer in benchmarks/explain_bench.py's deletion test on synthetic digits) and
  1×1 on small grids: the toy's "what does this one pixel add to the vote?".
- ``"integrated-gradients"``: Captum's ``IntegratedGradients`` from the background to
  the input, in ``steps`` steps run as one batch; the map sums to the score's change.
- ``"saliency"``: Captum's ``Saliency`` with ``abs=False``: the signed gradient of the
  score with respect to each input pixel — how adding ink there would move it.
- ``"grad-cam"``: Captum's ``LayerGradCam`` on a layer (default: the last conv layer,
  taken after the ReLU that follows it when there is one — the rectified feature maps
  of the Grad-CAM paper), signed (no ReLU on the map), brought to the input size by
  placing each cell at the centre of its receptive field and interpolating bilinearly.

The score attributed is, for a model that answers probabilities, the target's log-odds
``log p / (1 − p)``, computed from the layers before the softmax (:class:`LogOdds`): it
rises exactly when the probability does, but unlike the probability it does not
saturate, so a 99.9999 % answer still gets a map instead of float32 noise. For the
X/O toy it is the class's vote total (the network's output). ``score="output"`` makes
any model use its raw output (probabilities). Positive = toward ``target``.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np
import torch
from captum.attr import IntegratedGradients, LayerGradCam, Occlusion, Saliency
from torch import nn

from engine.errors import ConvPadError
from engine.explain.choices import METHODS

if TYPE_CHECKING:
    from engine.model import Model

__all__ = ["METHODS", "SCORES", "LogOdds", "attribute", "background", "conv_layers",
           "pick_layer", "scores"]

# Occlusion's window and stride, and integrated gradients' steps (see the docstring).
WINDOW = 3
STRIDE = 1
STEPS = 32
SCORES = ("log-odds", "output")
# Inputs up to this side (the toy's 9×9 grid) are occluded a cell at a time by default.
CELL_SIDE = 9


def attribute(
    model: Model,
    x: np.ndarray,
    method: str,
    target: int,
    layer: str | None = None,
    *,
    window: int | None = None,
    stride: int | None = None,
    steps: int = STEPS,
    score: str = "log-odds",
) -> np.ndarray:
    """The ``method`` map of model-ready input ``x`` (``input_shape``) for class index
    ``target``: an (H, W) float32 array at the network input, positive = toward it.

    ``layer`` names the layer Grad-CAM looks at (default: the last conv layer, after
    its ReLU); ``window``/``stride`` set occlusion's square window (default:
    :data:`WINDOW`, :data:`STRIDE`; 1 and 1 on inputs up to :data:`CELL_SIDE` px);
    ``steps`` sets integrated gradients' steps; ``score`` is "log-odds" (the default;
    the toy's votes) or "output" (see the module docstring).
    """
    if score not in SCORES:
        raise ConvPadError(f"unknown score {score!r}; choose one of: {', '.join(SCORES)}")
    if method not in METHODS:
        raise ConvPadError(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}")
    n = len(model.classes)
    if not 0 <= target < n:
        raise ConvPadError(f"target {target} is not a class index of {model.name} (0–{n - 1})")
    shape = tuple(model.input_shape)
    x_np = np.asarray(x, np.float32).reshape(shape)
    # Grad-CAM hooks a layer of the network; the app runs the same network in other
    # threads (the live trace), whose passes the hook would catch, so it hooks a copy.
    net = copy.deepcopy(model.module) if method == "grad-cam" else model.module
    forward = scores(model, net) if score == "log-odds" else net
    xt = torch.from_numpy(x_np[None].copy()).to(model.device)
    base = torch.from_numpy(background(model)[None]).to(model.device)
    if method != "occlusion":
        xt.requires_grad_()
    with torch.enable_grad():
        if method == "occlusion":
            out = _occlusion(forward, xt, base, target, window, stride)
        elif method == "integrated-gradients":
            out = IntegratedGradients(forward).attribute(
                xt, baselines=base, target=target, n_steps=steps)
        elif method == "saliency":
            out = Saliency(forward).attribute(xt, target=target, abs=False)
        else:
            name, module = pick_layer(net, layer)
            cam = LayerGradCam(forward, module).attribute(
                xt, target=target, relu_attributions=False)
            if cam.dim() != 4:
                convs = ", ".join(n for n, _ in conv_layers(net)) or "none"
                raise ConvPadError(f"layer {name!r} gives no map to look at; choose a conv "
                                 f"layer: {convs}")
            return _to_input(net, name, cam, shape[-2:])
    return out.detach()[0].sum(dim=0).float().cpu().numpy()


class LogOdds(nn.Module):
    """Each class's log-odds, ``log p / (1 − p)``, from a module giving logits or
    log-probabilities (the same formula: their difference is a constant per image).

    Computed from the scores before the softmax wherever the network has them: a
    confident answer's probability rounds to 1.0 in float32, and every gradient and
    every occluded difference of it is then 0, whereas its log-odds still moves.
    """

    def __init__(self, logits: nn.Module) -> None:
        super().__init__()
        self.logits = logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.logits(x)
        others = z[:, None, :].expand(-1, z.shape[1], -1)
        diagonal = torch.eye(z.shape[1], dtype=torch.bool, device=z.device)
        rest = torch.logsumexp(others.masked_fill(diagonal, float("-inf")), dim=-1)
        return z - rest


class _Log(nn.Module):
    """Probabilities → log-probabilities, for a network whose softmax is not its own layer."""

    def forward(self, p: torch.Tensor) -> torch.Tensor:
        return torch.log(p.clamp_min(torch.finfo(p.dtype).tiny))


def scores(model: Model, module: nn.Module | None = None) -> nn.Module:
    """What is attributed, per class, as the model's ``spec.head`` says: the log-odds
    of its probability ("softmax" — from the layers before a last softmax layer —,
    "logits", "log-softmax"), or the network's output (the toy's "votes", and any head
    not known here). ``module`` is the model's network or a copy of it."""
    head = model.spec.head
    module = model.module if module is None else module
    children = list(module.children())
    if head == "softmax" and children and isinstance(children[-1], nn.Softmax):
        return LogOdds(nn.Sequential(*children[:-1]))
    if head == "softmax":
        return LogOdds(nn.Sequential(module, _Log()))
    if head in ("logits", "log-softmax"):
        return LogOdds(module)
    return module


def background(model: Model) -> np.ndarray:
    """What a blank drawing gives at the network input (``input_shape``): the baseline
    of occlusion and integrated gradients."""
    side = model.input_shape[-1]
    return model.preprocess(np.zeros((side, side), np.float32), invert=False).astype(np.float32)


def conv_layers(module: nn.Module, kinds: list[str] | None = None) -> list[tuple[str, nn.Module]]:
    """The conv layers of a network whose children run in order, as (name, module).

    ``kinds`` (one per child, as in a trace: "conv", "relu", …) says which children are
    conv layers for networks whose conv layers are not ``nn.Conv2d``.
    """
    children = list(module.named_children())
    if kinds is not None:
        return [c for c, kind in zip(children, kinds, strict=True) if kind == "conv"]
    return [(name, child) for name, child in children if isinstance(child, nn.Conv2d)]


def pick_layer(module: nn.Module, layer: str | None = None) -> tuple[str, nn.Module]:
    """The layer Grad-CAM looks at: ``layer`` by name, or the last conv layer — after
    the ReLU that follows it, when one does (its rectified feature maps)."""
    convs = conv_layers(module)
    if layer is None:
        if not convs:
            raise ConvPadError(f"{type(module).__name__} has no conv layer for Grad-CAM")
        children = list(module.named_children())
        names = [name for name, _ in children]
        at = names.index(convs[-1][0]) if convs[-1][0] in names else -1
        if 0 <= at < len(children) - 1 and isinstance(children[at + 1][1], nn.ReLU):
            return children[at + 1]
        return convs[-1]
    named = dict(module.named_modules())
    if layer == "" or layer not in named:
        choices = ", ".join(name for name, _ in convs) or "none"
        raise ConvPadError(f"no layer {layer!r} in this model; its conv layers are: {choices}")
    return layer, named[layer]


def _occlusion(forward: nn.Module, x: torch.Tensor, base: torch.Tensor, target: int,
               window: int | None, stride: int | None) -> torch.Tensor:
    small = x.shape[-1] <= CELL_SIDE
    window = window or (1 if small else WINDOW)
    stride = stride or (1 if small else STRIDE)
    ink = (x != base)[0].any(dim=0)
    out = torch.zeros_like(x)
    if not ink.any():
        return out
    # Only the windows that touch ink: a window of background occludes nothing.
    r = torch.nonzero(ink.any(dim=1)).flatten()
    c = torch.nonzero(ink.any(dim=0)).flatten()
    r0, r1 = max(int(r[0]) - window + 1, 0), min(int(r[-1]) + window, x.shape[-2])
    c0, c1 = max(int(c[0]) - window + 1, 0), min(int(c[-1]) + window, x.shape[-1])
    crop = x[..., r0:r1, c0:c1]

    def paste(part: torch.Tensor) -> torch.Tensor:
        full = x.expand(len(part), *x.shape[1:]).clone()
        full[..., r0:r1, c0:c1] = part
        return forward(full)

    h, w = crop.shape[-2:]
    win = (x.shape[1], min(window, h), min(window, w))
    count = ((h - win[1]) // stride + 1) * ((w - win[2]) // stride + 1)
    attr = Occlusion(paste).attribute(
        crop, sliding_window_shapes=win, strides=(x.shape[1], stride, stride),
        baselines=base[..., r0:r1, c0:c1], target=target, perturbations_per_eval=count)
    out[..., r0:r1, c0:c1] = attr
    return out


def _to_input(module: nn.Module, name: str, cam: torch.Tensor,
              size: tuple[int, int]) -> np.ndarray:
    """A layer map (1, 1, h, w) → the input size, each cell at its receptive field's
    centre, bilinear between centres and constant beyond the outermost ones."""
    cam_np = cam.detach()[0, 0].float().cpu().numpy().astype(np.float64)
    field = _field(module, name)
    if field is None:  # not a plain chain of convs and pools: stretch it over the input
        jump = (size[0] / cam_np.shape[0], size[1] / cam_np.shape[1])
        first = (jump[0] / 2 - 0.5, jump[1] / 2 - 0.5)
    else:
        jump, first = (field[0], field[0]), (field[1], field[1])
    rows = _interp_matrix(size[0], cam_np.shape[0], first[0], jump[0])
    cols = _interp_matrix(size[1], cam_np.shape[1], first[1], jump[1])
    return (rows @ cam_np @ cols.T).astype(np.float32)


def _interp_matrix(n_out: int, n_in: int, first: float, jump: float) -> np.ndarray:
    """(n_out, n_in): linear interpolation from cells centred at ``first + k·jump``."""
    eye = np.eye(n_in)
    centres = first + jump * np.arange(n_in)
    at = np.arange(n_out, dtype=np.float64)
    return np.stack([np.interp(at, centres, eye[k]) for k in range(n_in)], axis=1)


def _field(module: nn.Module, name: str) -> tuple[float, float] | None:
    """(jump, centre of cell 0) of child ``name``'s output in input pixels, walking the
    children in order; None when a child before it changes geometry in a way not known."""
    jump, first = 1.0, 0.0
    for child_name, child in module.named_children():
        if isinstance(child, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            k, s, p = (_first(getattr(child, a)) for a in ("kernel_size", "stride", "padding"))
            d = _first(getattr(child, "dilation", 1))
            first += ((k - 1) * d / 2 - p) * jump
            jump *= s
        elif len(list(child.parameters())) and not isinstance(child, nn.BatchNorm2d):
            return None
        if child_name == name:
            return jump, first
    return None


def _first(v: int | tuple[int, ...]) -> int:
    return int(v[0]) if isinstance(v, tuple) else int(v)
