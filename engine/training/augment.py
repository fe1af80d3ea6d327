"""The random distortion each training view gets: affine jitter and an elastic wobble.

Every time a drawing is drawn for a training step it is rotated, slanted, scaled and
shifted a little, and wobbled by a smooth random displacement field (Simard et al.,
2003), as an :class:`~engine.spec.Augment` says — so a few dozen drawings, or 5,000 real
digits, teach a network what the many ways of writing them have in common.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from engine.spec import Augment


def augment(x: torch.Tensor, gen: torch.Generator, aug: Augment) -> torch.Tensor:
    """``aug``'s random rotation, shear, scale, shift and elastic wobble, on a batch
    ``x`` (N, 1, H, W), each image its own draw from ``gen`` (a CPU generator)."""
    n = x.shape[0]
    dev = x.device
    px = 2 / x.shape[-1]  # one pixel in grid_sample's [-1, 1] coordinates

    def u(half: float) -> torch.Tensor:
        return ((torch.rand(n, generator=gen, device="cpu") * 2 - 1) * half).to(dev)

    ang = u(math.radians(aug.rotate))
    sh = u(aug.shear)
    sc = 1 + u(aug.scale)
    tx, ty = u(aug.shift * px), u(aug.shift * px)
    cos, sin = torch.cos(ang), torch.sin(ang)
    theta = torch.stack(
        [torch.stack([cos * sc, -sin * sc + sh, tx], 1), torch.stack([sin * sc, cos * sc, ty], 1)],
        1,
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # Elastic: random displacements on a coarse 4×4 lattice, upsampled smoothly, so
    # neighbouring pixels move together (Simard's smoothed field, for a fraction of
    # the cost of blurring a full-resolution one).
    coarse = (torch.rand(n, 2, 4, 4, generator=gen) * 2 - 1).to(dev) * (aug.elastic * px)
    field = F.interpolate(coarse, size=x.shape[-2:], mode="bicubic", align_corners=False)
    grid = grid + field.permute(0, 2, 3, 1)
    out = F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")
    if aug.thickness:
        t = u(aug.thickness).view(n, 1, 1, 1)
        thick = F.max_pool2d(out, 3, 1, 1)
        thin = -F.max_pool2d(-out, 3, 1, 1)
        out = out + t.clamp(min=0) * (thick - out) + (-t).clamp(min=0) * (thin - out)
    return out
