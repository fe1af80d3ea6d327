"""Your own features: click the toy's 3×3 features to flip cells between +1 and −1.

The lecture asks "How can we weight the patch to detect particular features?"; this
page lets a class try. It appears for a model whose first convolution is normalised
matching (every weight ±1/n, :func:`engine.steps.matching_divisor`) — the X/O toy.
Each flip recomputes the three feature maps of the current drawing at once and emits
``weights_edited(layer, weights)`` and ``model_edited(model)`` (a copy from
:func:`engine.steps.with_conv_weights`), so the window can trace the live drawing
through the edited features. The shipped model and its file are never changed; "Save
as new model…" writes a new safetensors file and card under a new name only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QInputDialog, QPushButton, QWidget

from app.numbers import percent_text
from app.stepper.grid import Grid
from app.stepper.pages import Page, quiet
from app.stepper.paint import Lines
from app.stepper.view import StepView
from engine import ConvPadError, class_name, list_models
from engine.lecture import ConvSteps, matching_divisor
from engine.storage import new_model_folder, slug

PRESETS: dict[str, np.ndarray] = {
    "Horizontal bar": np.array([[-1, -1, -1], [1, 1, 1], [-1, -1, -1]], np.float64),
    "Vertical bar": np.array([[-1, 1, -1], [-1, 1, -1], [-1, 1, -1]], np.float64),
    "Corner": np.array([[1, 1, 1], [1, -1, -1], [1, -1, -1]], np.float64),
}


def editable_conv(trace) -> tuple[str, int] | None:
    """The first conv layer whose weights are ±1/n, with n; ``None`` when there is none."""
    for layer in trace.layers:
        if layer.kind == "conv" and layer.weights is not None:
            n = matching_divisor(layer.weights)
            if n is not None:
                return layer.name, n
    return None


class FeaturesView(StepView):
    """The features (±1, clickable) above the maps they make of the current input."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("stepper_features_view")
        self.features: np.ndarray | None = None  # (K, 3, 3) of ±1
        self.maps: np.ndarray | None = None  # (K, H, W)
        self.selected = 0
        self.divide = 9
        self.answer = ""

    def content(self):
        if self.features is None:
            return None
        K = len(self.features)
        feats = [Grid(self.features[k], f"{'▶ ' if k == self.selected else ''}feature {k + 1}",
                      1.0, 0, template="-0.00", key=f"feature{k}",
                      boxes=[(0, 3, 0, 3)] if k == self.selected else [])
                 for k in range(K)]
        grids = list(feats)
        maps: list[Grid] = []
        if self.maps is not None:
            maps = [Grid(self.maps[k], f"map {k + 1} (÷ {self.divide})", 1.0, 2, template="-0.00",
                         key=f"map{k}", image_side=11 if k == self.selected else 8)
                    for k in range(K)]
            # Where not every map can carry its numbers (a desk dock), the selected
            # feature's map keeps them — the lecture's table — and the others give theirs
            # up first (choose_numbered drops the first of the largest).
            grids += [g for k, g in enumerate(maps) if k != self.selected]
            grids.append(maps[self.selected])
        note = Lines([self.answer or "Click a cell to flip it between +1 and −1."])

        def rows():
            m, look, base = self.metrics, self.look(), self.font()
            out = [[g.block(m, look, base) for g in feats]]
            if maps:
                out.append([g.block(m, look, base) for g in maps])
            out.append([note.block(m, look, base)])
            return out

        return grids, rows


class FeaturesPage(Page):
    """Edit the toy's features; see the module docstring."""

    weights_edited = Signal(str, object)
    model_edited = Signal(object)
    model_saved = Signal(str, str)  # (card path, title): it can join the model picker
    notice = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("features", "Your own features",
                         "“How can we weight the patch to detect particular features?” "
                         "Click a feature's cell to flip it; every map, pool, ReLU and vote "
                         "follows.", FeaturesView(), parent)
        self.base_model = None
        self.edited_model = None
        self.layer_name = ""
        self.original: np.ndarray | None = None
        self.trace = None
        self.view.cell_clicked.connect(self._clicked)
        for i, name in enumerate(PRESETS):
            b = quiet(QPushButton(name))
            b.setObjectName(f"stepper_preset_{name.split()[0].lower()}")
            b.setToolTip(f"Put a {name.lower()} into the selected feature")
            b.clicked.connect(lambda _=False, n=name: self.load_preset(n))
            self.controls.insertWidget(i, b)
        reset = quiet(QPushButton("Reset"))
        reset.setObjectName("stepper_reset_features")
        reset.setToolTip("Bring back the lecture's features")
        reset.clicked.connect(self.reset)
        save = quiet(QPushButton("Save as new model…"))
        save.setObjectName("stepper_save_model")
        save.setToolTip("Write these features as a new model (safetensors + card); "
                        "the shipped model is never changed")
        save.clicked.connect(self.save_dialog)
        self.controls.addWidget(reset)
        self.controls.addWidget(save)

    @property
    def features(self) -> np.ndarray | None:
        return self.view.features

    def set_model(self, model, trace) -> bool:
        """Take the live model; False when it has no ±1 features.

        A copy with edited features (made here, or on the other step-through) keeps the
        model it was edited from, so *Reset* still brings the lecture's features back;
        any other model starts afresh from its own features.
        """
        found = editable_conv(trace)
        if found is None:
            self.base_model = None
            return False
        self.layer_name, n = found
        w = trace.layer(self.layer_name).weights
        features = np.round(np.asarray(w[:, 0], np.float64) * n)
        continues = (model.edited and self.base_model is not None
                     and model.signature == self.base_model.signature)
        if not continues:
            self.base_model, self.original = model, features.copy()
            self.view.selected = 0
        self.edited_model = model if model.edited else None
        self.view.divide = n
        self.view.features = features
        self.set_trace(trace)
        return True

    def set_trace(self, trace, blank: bool = False) -> None:
        self.trace = trace
        self._remap()

    def _remap(self) -> None:
        view = self.view
        if view.features is None or self.trace is None:
            return
        x = self.trace.layers[0].output
        n = view.divide
        view.maps = np.stack([ConvSteps(x, f / n, divide=n).output() for f in view.features])
        t = self.trace
        if len(t.classes) == len(t.probabilities):
            view.answer = "The network says: " + " · ".join(
                f"{c} {percent_text(p)}" for c, p in zip(t.classes, t.probabilities, strict=True))
        view.invalidate()

    def weights(self) -> np.ndarray:
        """The edited features as the layer's weights ``(K, 1, 3, 3)``, divided by n."""
        return (self.view.features[:, None] / self.view.divide).astype(np.float32)

    def _clicked(self, key: str, r: int, c: int) -> None:
        if not key.startswith("feature") or self.view.features is None:
            return  # a model with no ±1 features to flip
        k = int(key[len("feature"):])
        self.view.selected = k
        self.view.features[k, r, c] *= -1
        self._edited()

    def flip(self, k: int, r: int, c: int) -> None:
        self._clicked(f"feature{k}", r, c)

    def load_preset(self, name: str) -> None:
        if self.view.features is None:
            return
        self.view.features[self.view.selected] = PRESETS[name]
        self._edited()

    def reset(self) -> None:
        if self.original is None:
            return
        self.view.features = self.original.copy()
        self._edited()

    def _edited(self) -> None:
        self._remap()
        w = self.weights()
        self.weights_edited.emit(self.layer_name, w)
        if self.base_model is not None:
            # Features back as they were: the model as it was, not an "edited" copy of it.
            same = self.original is not None and np.array_equal(self.view.features,
                                                                 self.original)
            self.edited_model = None if same else self.base_model.with_weights(
                self.layer_name, w)
            self.model_edited.emit(self.edited_model or self.base_model)

    def save_as(self, name: str, folder: str | Path | None = None) -> Path | None:
        """Save the edited features as a new model called ``name`` (in ``folder``, or a new
        folder under the user data folder's models); returns its card. It opens like any
        saved model (``convpad --model``, *Open model*). A refusal is shown, not raised."""
        model = self.edited_model or (
            self.base_model.with_weights(self.layer_name, self.weights())
            if self.base_model is not None else None)
        if model is None:
            self.refuse("No model with editable features is loaded.")
            return None
        try:
            title = class_name(name, "model")
            if title.casefold() in {m.casefold() for m in list_models()}:
                raise ConvPadError(f"{title!r} is a shipped model: save the edited features "
                                   "under a new name")
            target = Path(folder) / slug(title) if folder is not None else new_model_folder(title)
            card = model.save(target, title=title)
        except ConvPadError as exc:
            self.refuse(f"Not saved: {exc}")
            return None
        self.clear_refusal()
        self.notice.emit(f"Saved the edited features as {title!r} in {card.parent}")
        self.set_hint(f"Saved as {title!r} in {card.parent}.")
        self.model_saved.emit(str(card), title)
        return card

    def save_dialog(self) -> None:
        name, ok = QInputDialog.getText(self, "Save as new model",
                                        "Name for the new model (not a shipped one):",
                                        text="my-features")
        if ok:
            self.save_as(name.strip())
