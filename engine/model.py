"""A loaded model: preprocess a drawing, predict, trace.

A :class:`Model` bundles the ``nn.Module`` with what callers need around it — its
classes, its input shape, the preprocessing its training data went through, and the
device it runs on — so the GUI, the CLI and a notebook all drive it the same way.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch
from torch import nn

from engine import preprocessing
from engine.devices import device_name, resolve_device
from engine.models import ARCHITECTURES
from engine.registry import ModelSpec, model_spec
from engine.tracing import (
    Trace,
    check_sequential,
    receptive_fields,
    sequential_children,
    trace_module,
)
from engine.weights import WeightsError, load_weights, load_weights_and_card

# ModelSpec.head → the Layer kind shown for a last plain dense layer. "softmax": the
# last layer's output is the probabilities; "votes": its shares are (_vote_share).
HEADS = {"softmax": "dense", "votes": "votes"}

# Images per forward pass in predict(): large enough to keep the CPU busy, small enough
# that a 10,000-image evaluation never holds more than a few MB of activations.
BATCH = 512

# Batches at least this big run through a channels-last copy of the network on the CPU:
# 1.7–2× faster for a sweep's 387 images (benchmarks/sweep_bench.py). One-image traces
# keep the default layout, whose outputs the panels read as plain numpy views.
CHANNELS_LAST_BATCH = 64


class Model:
    """A shipped network, ready to preprocess drawings, predict and trace.

    Use :func:`load_model` to get one. ``classes`` and ``input_shape`` come from the
    registry; ``card`` is the JSON model card beside the weights loaded, when one
    describes them (``{}`` for weights made in this process, such as edited features).
    """

    def __init__(
        self, spec: ModelSpec, module: nn.Module, device: torch.device,
        card: dict | None = None,
    ) -> None:
        self.spec = spec
        self.name = spec.name
        self.classes: list[str] = list(spec.classes)
        self.input_shape: tuple[int, int, int] = spec.input_shape
        self.device = device
        self.module = module.to(device).eval()
        self.card = card or {}
        # Weights never change while a model is loaded: copy them to numpy once, not on
        # every traced frame (the digits dense layer alone is 6.5 MB).
        self._weights: dict[str, tuple[np.ndarray | None, np.ndarray | None]] = {}
        for name, child in self.module.named_children():
            w = getattr(child, "weight", None)
            b = getattr(child, "bias", None)
            if isinstance(w, torch.Tensor):
                self._weights[name] = (
                    _frozen(w),
                    _frozen(b) if isinstance(b, torch.Tensor) else None,
                )
        self._fields = receptive_fields(self.module)
        self._reduce = _pick(preprocessing.PREPROCESSORS, spec.preprocessing, "preprocessing", spec)
        self._as_drawn = _pick(preprocessing.AS_DRAWN, spec.preprocessing, "preprocessing", spec)
        self._crops_to_ink = spec.preprocessing in preprocessing.CROPS_TO_INK
        # The file the weights came from (load_model sets it), for experiment records.
        self.weights_path: Path | None = None
        self._weights_sha256: str | None = None
        self._channels_last: nn.Module | None = None
        last_kind = _pick(HEADS, spec.head, "head", spec)
        self._votes = spec.head == "votes"
        self._children = sequential_children(self.module, head=last_kind)
        check_sequential(self.module, self._children, self.input_shape, self.device)

    def __repr__(self) -> str:
        return f"<Model {self.name!r} on {self.device}>"

    def save(self, folder: str | Path) -> Path:
        """Write this model to ``folder`` as safetensors + a JSON card; returns the card.

        Atomic: weights first, card last, so a crash leaves the old pair or the new one.
        The model is then named by its card, so ``load_model(m.name)`` reopens it.
        See :func:`engine.teach.save_model`.
        """
        from engine.teach import save_model

        return save_model(self, folder)

    @property
    def device_name(self) -> str:
        return device_name(self.device)

    def is_blank(self, img: np.ndarray) -> bool:
        """True when a drawing holds no ink (an empty canvas: no prediction)."""
        return preprocessing.is_blank(preprocessing.as_ink(img, invert=False))

    @property
    def weights_sha256(self) -> str | None:
        """SHA-256 (hex) of the weight file this model was loaded from, or None if unknown.

        Read on first use and kept: an experiment log names exactly which weights
        answered, so a retrained file under the same name is told apart.
        """
        if self._weights_sha256 is None and self.weights_path is not None:
            digest = hashlib.sha256()
            with open(self.weights_path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            self._weights_sha256 = digest.hexdigest()
        return self._weights_sha256

    def preprocess(
        self, img: np.ndarray, invert: bool | None = None, input: str = "centred"
    ) -> np.ndarray:
        """A raw drawing (2-D, ink 1 on 0) → a float32 array of ``input_shape``.

        ``input`` says how the drawing reaches the network:

        - ``"centred"`` (the default, what the models were trained on): the spec's
          ``preprocessing`` crops, scales and re-centres the ink — MNIST's
          crop/scale/centre-of-mass recipe for the 28×28 models, the lecture's 9×9 grid of
          ±1 for the X/O toy — so where and how big you drew does not reach the network.
        - ``"as-drawn"``: the whole canvas is averaged down to the input size by area
          (a non-square one centred in its longer side's square), with no crop or
          re-centring: where you drew is where the network sees it. The 28×28 models get
          the brightest pixel stretched to 1 (MNIST-like stroke contrast); the toy gets
          ±1 cells, ink where a cell is at least half as covered as the most covered one.

        ``invert=None`` detects dark-on-light images by their border; ``True`` inverts
        always (see :func:`engine.preprocessing.as_ink`).
        """
        return self._from_ink(preprocessing.as_ink(img, invert=invert), input)

    def prepare(self, img: np.ndarray, input: str = "centred") -> tuple[np.ndarray, bool]:
        """The live path's one call: ``(preprocess(img), is_blank(img))`` for a drawing
        that is already ink on background (a canvas), checking and clipping it once.

        A uint8 canvas under a recipe that reads only the ink's box (centred digits) is
        cropped on its bytes first and only the crop becomes float: on every pen event
        that skips converting and scanning the whole canvas, with the same result.
        """
        a = np.asarray(img)
        if a.dtype == np.uint8 and input == "centred" and self._crops_to_ink and a.ndim == 2:
            box = preprocessing.ink_box(a)
            if box is not None:
                return self._from_ink(preprocessing.as_ink(a[box], invert=False), input), False
        ink = preprocessing.as_ink(a, invert=False)
        return self._from_ink(ink, input), preprocessing.is_blank(ink)

    def _from_ink(self, ink: np.ndarray, input: str) -> np.ndarray:
        size = self.input_shape[-1]
        if input == "centred":
            x = self._reduce(ink, size)
        elif input == "as-drawn":
            x = self._as_drawn(preprocessing.as_drawn_cover(ink, size))
        else:
            raise ValueError(
                f"unknown input mode {input!r}; choose one of: "
                f"{', '.join(preprocessing.INPUT_MODES)}"
            )
        return x.reshape(self.input_shape)

    def _tensor(self, x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(self.device)

    def _probabilities(self, out: np.ndarray) -> np.ndarray:
        """Rows of class probabilities from the network's last layer (N, classes)."""
        out = np.asarray(out, np.float32)
        if not self._votes:
            return out
        return np.stack([_vote_share(row) for row in out]) if len(out) else out

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Probabilities for model-ready inputs ``(N, *input_shape)``, no preprocessing."""
        x = np.asarray(x, np.float32).reshape(-1, *self.input_shape)
        module = self.module
        if len(x) >= CHANNELS_LAST_BATCH and self.device.type == "cpu":
            if self._channels_last is None:  # weights never change while loaded
                fast = copy.deepcopy(self.module).to(memory_format=torch.channels_last)
                for layer in fast.modules():
                    if isinstance(layer, nn.ReLU):
                        layer.inplace = True  # never traced: no output needs keeping
                self._channels_last = fast
            module = self._channels_last
        outs = []
        with torch.inference_mode():
            for start in range(0, len(x), BATCH):
                out = module(self._tensor(x[start : start + BATCH]))
                outs.append(self._probabilities(out.float().cpu().numpy()))
        return np.concatenate(outs) if outs else np.zeros((0, len(self.classes)), np.float32)

    def predict(
        self, imgs: np.ndarray, invert: bool | None = None, input: str = "centred"
    ) -> np.ndarray:
        """Raw drawings ``(N, H, W)`` (or one ``(H, W)``) → ``(N, len(classes))`` probabilities.

        Each drawing is preprocessed as in :meth:`preprocess`, in input mode ``input``
        (``"centred"`` or ``"as-drawn"``). A blank drawing has no
        prediction: its row is NaN, so it is never mistaken for a confident class.
        """
        imgs = np.asarray(imgs)
        if imgs.ndim == 2:
            imgs = imgs[None]
        if imgs.ndim != 3:
            raise ValueError(f"expected drawings of shape (N, H, W), got {imgs.shape}")
        inks = [preprocessing.as_ink(im, invert=invert) for im in imgs]
        blank = np.array([preprocessing.is_blank(ink) for ink in inks], bool)
        x = (
            np.stack([self.preprocess(ink, invert=False, input=input) for ink in inks])
            if len(inks)
            else np.zeros((0, *self.input_shape), np.float32)
        )
        probs = self.forward(x)
        probs[blank] = np.nan
        return probs

    def trace(self, x: np.ndarray) -> Trace:
        """Run one model-ready input (``input_shape``) and record every layer."""
        x = np.asarray(x, np.float32)
        if x.shape not in (self.input_shape, self.input_shape[1:]):
            raise ValueError(
                f"{self.name} traces one input of shape {self.input_shape}, got {x.shape}; "
                "call preprocess() on a raw drawing first"
            )
        t = self._tensor(x.reshape(1, *self.input_shape))
        layers = trace_module(self._children, t, self._weights, self._fields)
        last = layers[-1].output
        probs = _vote_share(last) if self._votes else last.copy()
        return Trace(layers=layers, probabilities=probs, classes=self.classes)


def _vote_share(votes: np.ndarray) -> np.ndarray:
    """One image's votes → each class's share: the toy's "probabilities".

    The toy's votes are non-negative; its probability of X is X's share of all votes,
    and no votes at all (no feature matched anything) is a tie. Plain Python on a
    two-element vector: numpy's per-call overhead would cost more than the toy
    network's whole forward pass, which is traced on every frame.
    """
    values = [float(v) for v in votes]
    total = sum(values)
    if total <= 0:
        return np.full(len(values), 1.0 / len(values), np.float32)
    return np.array([v / total for v in values], np.float32)


def _frozen(t: torch.Tensor) -> np.ndarray:
    a = t.detach().float().cpu().numpy().copy()
    a.flags.writeable = False
    return a


T = TypeVar("T")


def _pick(table: Mapping[str, T], key: str, what: str, spec: ModelSpec) -> T:
    """``table[key]``, or a ``ValueError`` naming the model, the bad value and the choices."""
    try:
        return table[key]
    except KeyError:
        raise ValueError(
            f"model {spec.name!r}: unknown {what} {key!r}; choose one of: {', '.join(table)}"
        ) from None


def build_module(name: str | ModelSpec) -> nn.Module:
    """A freshly initialised (untrained) network of model ``name`` (or a spec), as its spec says.

    Raises ``ValueError`` when the spec's architecture, config, input shape and classes
    do not fit together, so a new spec fails here with its name, not in a forward pass.
    """
    spec = name if isinstance(name, ModelSpec) else model_spec(name)
    name = spec.name
    build = _pick(ARCHITECTURES, spec.architecture, "architecture", spec)
    try:
        module = build(**spec.config)
    except TypeError as exc:
        raise ValueError(
            f"model {name!r}: config {dict(spec.config)} does not fit "
            f"architecture {spec.architecture!r} ({exc})"
        ) from None
    try:
        with torch.inference_mode():
            out = module(torch.zeros(1, *spec.input_shape))
    except RuntimeError as exc:
        raise ValueError(
            f"model {name!r}: its {spec.architecture} network does not take an input of "
            f"shape {spec.input_shape} ({exc})"
        ) from None
    if out.shape != (1, len(spec.classes)):
        raise ValueError(
            f"model {name!r}: its {spec.architecture} network gives {tuple(out.shape[1:])} "
            f"outputs for {len(spec.classes)} classes; check its config"
        )
    return module


def load_model(name: str | Path, device: str = "auto", weights: str | Path | None = None
               ) -> Model:
    """Load model ``name`` (one of :func:`engine.list_models`, or a user model's card or
    folder) onto ``device``.

    ``weights`` overrides the shipped safetensors file. Raises ``ValueError`` for an
    unknown name or unavailable device, :class:`engine.WeightsError` for a bad file and
    :class:`engine.CardError` for a user model's card that disagrees with its weights.
    """
    spec = model_spec(name)
    dev = resolve_device(device)
    module = build_module(spec)
    path = Path(weights) if weights is not None else spec.weights_path
    if spec.card_file is None:
        model = Model(spec, module, dev, load_weights_and_card(module, path))
    else:
        # A user model: its card is what ``model_spec`` read and checked (engine.cards).
        from engine.cards import CardError, read_card_strict

        try:
            load_weights(module, path)
        except WeightsError as exc:
            raise CardError(
                f"{spec.card_file}: the card does not match its weights: {exc}") from None
        model = Model(spec, module, dev, read_card_strict(Path(spec.card_file)))
    model.weights_path = path
    return model
