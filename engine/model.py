"""A loaded model: preprocess a drawing, predict, trace, edit, save — and load one.

A :class:`Model` bundles the ``nn.Module`` with what callers need around it — its
classes, its input shape, the preprocessing its training data went through, the device
it runs on and the card it was loaded with — so the GUI, the CLI and a notebook all
drive it the same way. This is the only place a model is loaded or saved: every model
ConvPad opens comes through :func:`load_model`, and every model it writes (``convpad
train``, Teach, edited features, ``Model.save``) goes out through :meth:`Model.save` and
:func:`engine.storage.cards.write_pair`, in the one card format.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from torch import nn

from engine import preprocessing
from engine.catalog import MODELS, model_spec, renamed
from engine.devices import device_name, resolve_device
from engine.errors import CardError, ConvPadError, LimitError, WeightsError
from engine.formats import NETWORK_FORMATS, load_network, network_summary
from engine.spec import RESOURCES, ModelSpec
from engine.storage.files import display
from engine.storage.weights import MAX_ABS_WEIGHT, load_weights, weights_bytes
from engine.tracing import (
    HEAD_KINDS,
    Trace,
    check_sequential,
    layer_weights,
    probabilities_from,
    receptive_fields,
    sequential_children,
    trace_module,
)

# Images per forward pass in predict(): large enough to keep the CPU busy, small enough
# that a 10,000-image evaluation never holds more than a few MB of activations.
BATCH = 512

# Batches at least this big run through a channels-last copy of the network on the CPU:
# 1.7–2× faster for a sweep's 387 images (benchmarks/sweep_bench.py). One-image traces
# keep the default layout, whose outputs the panels read as plain numpy views.
CHANNELS_LAST_BATCH = 64


class Model:
    """A network, ready to preprocess drawings, predict, trace and save.

    Use :func:`load_model` to get one. ``classes`` and ``input_shape`` come from the
    spec; ``card`` is what the model card says about how the model was made (``{}``
    for a model made in this process until it is saved). ``edited`` names the layers
    whose weights were changed by hand (:meth:`with_weights`): such a model is not the
    one its card describes, and says so in its :attr:`title`.
    """

    def __init__(
        self, spec: ModelSpec, module: nn.Module, device: torch.device,
        card: dict | None = None, weights_path: Path | None = None,
        edited: tuple[str, ...] = (),
    ) -> None:
        self.spec = spec
        self.device = device
        self.module = module.to(device).eval()
        self.card = card or {}
        self.edited = tuple(edited)
        # The file the weights came from (None once edited), for experiment records.
        self.weights_path = weights_path
        self._weights_sha256: str | None = None
        self.stopped = ""  # why a training ended early ("" after a full run)
        self.history: list[dict[str, Any]] = []  # a training's per-epoch figures
        # Weights never change while a model is loaded: copied to numpy once, not on
        # every traced frame (the digits dense layer alone is 6.5 MB).
        self._weights = layer_weights(self.module)
        self._fields = receptive_fields(self.module)
        self._reduce = _pick(preprocessing.PREPROCESSORS, spec.preprocessing, "preprocessing",
                             spec)
        self._as_drawn = _pick(preprocessing.AS_DRAWN, spec.preprocessing, "preprocessing", spec)
        self._crops_to_ink = spec.preprocessing in preprocessing.CROPS_TO_INK
        self._channels_last: nn.Module | None = None
        _pick(HEAD_KINDS, spec.head, "head", spec)
        self._children = sequential_children(self.module, head=spec.head)
        check_sequential(self.module, self._children, self.input_shape, self.device)

    def __repr__(self) -> str:
        return f"<Model {self.title!r} on {self.device}>"

    # ----- who it is --------------------------------------------------------------------
    @property
    def name(self) -> str:
        """What :func:`load_model` reopens it by: a shipped name or the card's path."""
        return self.spec.name

    @property
    def title(self) -> str:
        """What a headline or a window title calls it: "xo-toy", "xo-toy (edited)"."""
        base = self.spec.name if self.spec.name in MODELS else self.spec.title
        return f"{base} (edited)" if self.edited else base

    @property
    def classes(self) -> list[str]:
        return list(self.spec.classes)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return self.spec.input_shape

    @property
    def device_name(self) -> str:
        return device_name(self.device)

    @property
    def signature(self) -> tuple:
        """What every version of this network shares — its layers (name, kind, weight
        shape), classes and input — so two models with the same signature differ only in
        their weights (a checkpoint, edited features)."""
        return (tuple((name, kind, None if self._weights.get(name) is None
                       else tuple(self._weights[name][0].shape))
                      for name, _child, kind in self._children),
                tuple(self.classes), self.input_shape)

    @property
    def weights_sha256(self) -> str:
        """SHA-256 (hex) of exactly the weights that answer: an experiment log names them,
        so a retrained file under the same name, or edited features, are told apart."""
        if self._weights_sha256 is None:
            if self.weights_path is not None and not self.edited:
                digest = hashlib.sha256(self.weights_path.read_bytes())
            else:
                digest = hashlib.sha256(weights_bytes(self.module))
            self._weights_sha256 = digest.hexdigest()
        return self._weights_sha256

    # ----- drawings in --------------------------------------------------------------------
    def is_blank(self, img: np.ndarray) -> bool:
        """True when a drawing holds no ink (an empty canvas: no prediction)."""
        return preprocessing.is_blank(preprocessing.as_ink(img, invert=False))

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
            raise ConvPadError(f"unknown input mode {input!r}; choose one of: "
                               f"{', '.join(preprocessing.INPUT_MODES)}")
        return x.reshape(self.input_shape)

    # ----- answers out --------------------------------------------------------------------
    def _tensor(self, x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(self.device)

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
                out = module(self._tensor(x[start : start + BATCH])).float().cpu().numpy()
                outs.append(np.stack([probabilities_from(row, self.spec.head) for row in out])
                            if len(out) else out)
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
            raise ConvPadError(f"expected drawings of shape (N, H, W), got {imgs.shape}")
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
            raise ConvPadError(
                f"{self.name} traces one input of shape {self.input_shape}, got {x.shape}; "
                "call preprocess() on a raw drawing first")
        t = self._tensor(x.reshape(1, *self.input_shape))
        layers = trace_module(self._children, t, self._weights, self._fields)
        probs = probabilities_from(layers[-1].output, self.spec.head)
        return Trace(layers=layers, probabilities=probs, classes=self.classes)

    # ----- edits and saving ---------------------------------------------------------------
    def with_weights(self, layer_name: str, weights: np.ndarray) -> Model:
        """A copy whose conv or dense layer ``layer_name`` has ``weights``, same device.

        This model and its file are untouched; the copy is :attr:`edited`. Refused
        (:class:`~engine.errors.ConvPadError`) for a layer that is not a conv or dense
        layer, another shape, NaN, or a value beyond ±1e4 — the one limit every weight
        file is held to, so what is edited can always be saved and opened again.
        """
        module = copy.deepcopy(self.module)
        child = getattr(module, layer_name, None)
        if not isinstance(child, (nn.Conv2d, nn.Linear)):
            names = [n for n, c in module.named_children() if isinstance(c, (nn.Conv2d,
                                                                             nn.Linear))]
            raise ConvPadError(f"{self.name} has no conv or dense layer {layer_name!r}; "
                               f"its layers with weights are {names}")
        w = np.asarray(weights, np.float32)
        if w.shape != tuple(child.weight.shape):
            raise ConvPadError(f"{layer_name}: weights of shape {w.shape}, expected "
                               f"{tuple(child.weight.shape)}")
        if not np.isfinite(w).all():
            raise ConvPadError(f"{layer_name}: weights hold NaN or infinite values")
        if w.size and float(np.abs(w).max()) > MAX_ABS_WEIGHT:
            raise LimitError(f"{layer_name}: a weight of {float(np.abs(w).max()):.3g} is beyond "
                             f"±{MAX_ABS_WEIGHT:g}, the limit every ConvPad weight is held to")
        with torch.no_grad():
            child.weight.copy_(torch.from_numpy(w).to(child.weight.device, child.weight.dtype))
        edited = tuple(sorted({*self.edited, layer_name}))
        return Model(self.spec, module, self.device, self.card, None, edited)

    def save(self, folder: str | Path | None = None, title: str | None = None) -> Path:
        """Write this model to ``folder`` as safetensors + a JSON card; returns the card.

        ``folder`` defaults to a new folder under the user data folder's ``models/``;
        ``title`` (what a picker shows) defaults to the model's own.
        The shipped resources are never written (``convpad train`` rebuilds them). The
        pair is written atomically (:func:`engine.storage.cards.write_pair`) and checked
        by reading it back; ``load_model(card)`` — or ``convpad --model``, *Open model* —
        opens it. This model itself is unchanged (it may be the live one, shown
        everywhere: its name changes only by opening the saved one).
        A network opened from a Keras or ONNX file is refused: only its file rebuilds it.
        """
        from engine.storage.cards import card_fields, read_card, write_pair
        from engine.storage.paths import new_model_folder

        if self.spec.architecture in NETWORK_FORMATS:
            raise ConvPadError(f"{self.title} was opened from {display(self.spec.name)}; "
                               "ConvPad saves only networks it builds itself: save it with "
                               "the tool that made it")
        folder = Path(folder).expanduser() if folder is not None else new_model_folder(
            self.spec.title)
        if _inside(folder, RESOURCES):
            raise ConvPadError(f"{display(folder)} holds the shipped models, which ConvPad "
                               "never overwrites: choose another folder")
        fields = card_fields(self.spec) | dict(self.card)
        if self.edited:
            fields["title"] = self.title
            fields["edited"] = list(self.edited)
            fields["base"] = self.spec.name if self.spec.name in MODELS else self.spec.title
        if title is not None:
            fields["title"] = title
        return read_card(write_pair(weights_bytes(self.module), folder, fields)).path


def _inside(folder: Path, root: Path) -> bool:
    folder, root = folder.resolve(), root.resolve()
    return folder == root or root in folder.parents


T = TypeVar("T")


def _pick(table: Mapping[str, T], key: str, what: str, spec: ModelSpec) -> T:
    """``table[key]``, or a ``ConvPadError`` naming the model, the bad value and the choices."""
    try:
        return table[key]
    except KeyError:
        raise ConvPadError(
            f"model {spec.name!r}: unknown {what} {key!r}; choose one of: {', '.join(table)}"
        ) from None


def load_model(name: str | Path, device: str = "auto", weights: str | Path | None = None,
               classes: str | Path | Sequence[str] | None = None) -> Model:
    """Load model ``name`` onto ``device`` ("auto", "cpu", "cuda", "mps").

    ``name`` is a shipped model (:func:`engine.list_models`), the card or folder of a
    model ConvPad saved, or a Keras/ONNX network file. ``weights`` overrides the
    weights file (development and tests); ``classes``, the class names (a list, or a
    text file: :func:`engine.catalog.renamed`). Raises a
    :class:`~engine.errors.ConvPadError` child naming the problem: an unknown name, an
    unavailable device, a bad weight file (``WeightsError``), a card that disagrees
    with its weights (``CardError``), a network file that cannot be opened
    (``ModelFileError``).
    """
    model = _load(model_spec(name), resolve_device(device), weights)
    if classes is not None:  # only the names change: nothing computed depends on them
        model.spec = renamed(model.spec, classes)
    return model


def _load(spec: ModelSpec, dev: torch.device, weights: str | Path | None) -> Model:
    if spec.architecture in NETWORK_FORMATS:  # a Keras or ONNX file: its card is its summary
        if weights is not None:
            raise ConvPadError(f"{display(spec.name)} holds its own weights; a weights file "
                               "replaces only those of ConvPad's own models")
        card = network_summary(spec)  # first: a big network is handed over, not kept
        return Model(spec, load_network(spec), dev, card)
    from engine.architectures import build_module
    from engine.storage.cards import card_fields, read_card

    try:
        module = build_module(spec)
    except ConvPadError as exc:
        if spec.card_file is None:
            raise
        raise CardError(f"{display(spec.card_file)}: {exc}") from None
    if weights is not None:  # an explicit file: no card describes it
        path = Path(weights)
        load_weights(module, path)
        return Model(spec, module, dev, {}, path)
    card = read_card(spec.card_path, name=spec.name if spec.name in MODELS else None)
    shipped = spec.name in MODELS
    same = card_fields(dataclasses.replace(card.spec, title=spec.title)) == card_fields(spec)
    if shipped and not same:  # the title may differ, nothing else
        raise CardError(f"{display(card.path)} describes another network than ConvPad's "
                        f"{spec.name!r}: restore it, or rebuild it with `convpad train "
                        f"{spec.name}`")
    try:
        load_weights(module, card.weights)
    except WeightsError as exc:
        raise CardError(f"{display(card.path)}: its weights cannot be used: {exc}") from None
    return Model(spec if shipped else card.spec, module, dev, card.made, card.weights)
