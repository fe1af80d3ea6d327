"""Explain the vote: which ink pushed the network toward its answer, and which away.

Public API::

    from engine.explain import explain, METHODS
    e = explain(model, drawing, method="occlusion", target=None, input="centred", layer=None)
    e.image_map      # the drawing's pixel grid: + toward e.target, − away, 0 off the ink's box
    e.input_map      # the same at the network input (28×28, or the toy's 9×9)
    e.target         # class index explained: the answer unless asked (None: blank drawing)
    e.probabilities  # exactly Model.predict's (NaN for a blank drawing)

    from engine.explain import attribute       # one model-ready input → its input map
    from engine.explain import toy_occlusion   # the lecture's closed form, (2, 9, 9)
    from engine.explain import overlay_rgba, heat_rgba, overlay_png
    from engine.explain.geometry import to_file   # read_image's pixels → the file's own

``drawing`` is a 2-D array as :func:`engine.read_image` returns it (float ink 1 on 0)
or the canvas's raster (uint8, 255 on 0); it is never inverted. ``method`` is one of
:data:`METHODS`, each computed by Captum (:mod:`engine.explain.methods`): occlusion
(3×3 windows on 28×28 inputs, single cells on the toy's grid, set to the background),
integrated gradients (32 steps from a blank input), saliency (the signed gradient, not
gradient × input) and Grad-CAM on ``layer`` (default: the last conv layer, after its
ReLU). What is attributed is the target's log-odds for softmax models (it moves with
the probability but does not saturate at 100 %) and the vote total for the X/O toy.
``input`` is the model's input mode, "centred" or "as-drawn", as in
:meth:`engine.Model.preprocess`.

From the network input to the drawing's pixels: the map is computed at the network
input and read back through the preprocessing. With the ink's box, the scale and the
placement held fixed, the preprocessing (crop, resize and centre — or, as drawn,
average the whole canvas down) is linear: every input pixel is a weighted sum of
drawing pixels, with the very weights of Pillow's resize or of the area average
(:mod:`engine.explain.geometry`, checked to reproduce ``Model.preprocess``). Each
drawing pixel inside the ink's box gets the weighted mean of the map over the input
pixels it feeds, weighted by how much it feeds each: it shows the value of the input
pixel it lands on, smoothed exactly as much as the resize smooths. Pixels outside the
ink's box get 0, and the map has the drawing's shape. For an image file,
:func:`engine.explain.geometry.to_file` then takes the map to the file's own pixel grid:
``read_image`` averages a file longer than 1024 px in f×f blocks and turns it upright by
its EXIF tag, so each file pixel gets the value of the block it was averaged into.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.errors import ConvPadError
from engine.explain.choices import METHODS
from engine.explain.overlay import heat_rgba, overlay_png, overlay_rgba
from engine.preprocessing import as_ink

if TYPE_CHECKING:
    from engine.model import Model

__all__ = ["METHODS", "Explanation", "attribute", "explain", "heat_rgba", "overlay_png",
           "overlay_rgba", "toy_occlusion"]

# The attribution methods, in the order a picker shows them. Defined here, not in
# methods.py, so that building the CLI's parser does not import torch and Captum.


@dataclass(frozen=True)
class Explanation:
    """One attribution map of one drawing, at the network input and on the drawing.

    ``target`` is the class index explained (the answer unless asked; None for a blank
    drawing, whose maps are zeros). ``probabilities`` are ``Model.predict``'s (NaN for a
    blank drawing). ``input_map`` is ``input_shape[-2:]``; ``image_map`` has the
    drawing's shape. Positive = toward ``target``. ``layer`` is Grad-CAM's layer name
    (None for the other methods); ``network_input`` is what the network saw.
    """

    method: str
    target: int | None
    probabilities: np.ndarray
    input_map: np.ndarray
    image_map: np.ndarray
    layer: str | None
    network_input: np.ndarray
    classes: tuple[str, ...]

    @property
    def answer(self) -> int | None:
        """The most probable class index (None for a blank drawing)."""
        p = self.probabilities
        return None if np.isnan(p).any() else int(np.argmax(p))


def explain(
    model: Model,
    drawing: np.ndarray,
    method: str = "occlusion",
    target: int | None = None,
    input: str = "centred",
    layer: str | None = None,
) -> Explanation:
    """Attribution map of ``drawing`` for class index ``target`` (default: the answer).

    See the module docstring for the drawing's form and how the map reaches its pixels.
    Raises :class:`~engine.errors.ConvPadError` for an unknown method, target, layer or input mode.
    """
    from engine.explain.geometry import placement
    from engine.explain.methods import attribute, pick_layer

    if method not in METHODS:
        raise ConvPadError(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}")
    ink = as_ink(drawing, invert=False)
    probs = model.predict(ink[None], invert=False, input=input)[0]
    x = model.preprocess(ink, invert=False, input=input)
    layer_name = pick_layer(model.module, layer)[0] if method == "grad-cam" else None
    blank = bool(np.isnan(probs).any())
    if target is None and not blank:
        target = int(np.argmax(probs))
    size = tuple(model.input_shape[-2:])
    input_map = np.zeros(size, np.float32)
    image_map = np.zeros(ink.shape, np.float32)
    if target is not None:
        input_map = attribute(model, x, method, int(target), layer_name)
    if not blank:
        where = placement(ink, model.spec.preprocessing, model.input_shape[-1], input)
        image_map = where.to_image(input_map)
    return Explanation(
        method=method,
        target=None if target is None else int(target),
        probabilities=probs,
        input_map=input_map,
        image_map=image_map,
        layer=layer_name,
        network_input=x.reshape(size),
        classes=tuple(model.classes),
    )


def __getattr__(name: str) -> Any:
    if name == "attribute":  # imports torch and Captum: only when asked for
        from engine.explain.methods import attribute

        return attribute
    if name == "toy_occlusion":  # imports torch
        from engine.explain.toy import toy_occlusion

        return toy_occlusion
    raise AttributeError(f"module 'engine.explain' has no attribute {name!r}")
