"""A step-through page for one layer of the live network, chosen by the layer's kind.

Conv, pooling, ReLU, votes and dense layers each get the view that shows their
arithmetic one step at a time, fed by :func:`engine.lecture.steps_for_layer` with the
engine's own numbers; the page keeps the channel or unit being shown.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QWidget,
)

from app.stepper.conv_view import ConvShow, ConvView
from app.stepper.map_views import NormView, PoolShow, PoolView, ReluView, ValueShow
from app.stepper.pages import Page, quiet
from app.stepper.vector_views import DenseShow, DenseView, VoteShow, VoteView
from engine.lecture import (
    geometry,
    layer_input,
    map_shape,
    steps_for_layer,
)

KIND_WORDS = {
    "conv": "convolution",
    "pool": "max pooling",
    "relu": "ReLU",
    "norm": "batch norm",
    "votes": "every value casts a weighted vote",
    "dense": "fully connected",
}
VIEWS = {"conv": ConvView, "pool": PoolView, "relu": ReluView, "norm": NormView,
         "votes": VoteView, "dense": DenseView}


class LayerPage(Page):
    """One layer of the live trace, stepped through as its kind says.

    ``set_trace`` takes each new trace (the drawing changed) and keeps the step the
    player is on, so a teacher can hold a cell while a student draws. A map layer has a
    map picker; a dense layer a unit picker (or click a unit in the output row).
    """

    def __init__(self, name: str, kind: str, parent: QWidget | None = None) -> None:
        super().__init__(f"layer_{name}", f"{name}: {KIND_WORDS[kind]}", "", VIEWS[kind](), parent)
        self.name, self.kind = name, kind
        self.trace = None
        self.picker = quiet(QComboBox())
        self.picker.setObjectName("stepper_picker")
        self.picker.setToolTip("Which map (or unit) to step through")
        self.picker.currentIndexChanged.connect(self._picked)
        self.picker_label = QLabel("Show")
        self.controls.insertWidget(0, self.picker_label)
        self.controls.insertWidget(1, self.picker)
        self.view.cell_clicked.connect(self._clicked)
        self.view.message = "Draw something: an empty canvas gives the network nothing to see."

    @property
    def choice(self) -> int:
        return max(0, self.picker.currentIndex())

    def set_trace(self, trace, blank: bool = False) -> None:
        """Show ``trace`` (``blank``: an empty canvas, nothing to show)."""
        self.trace = trace
        if trace is None or blank:
            self.view.message = "Draw something: an empty canvas gives the network nothing to see."
            self.view.invalidate()
            self.player.set_count(0)
            return
        self.view.message = ""
        self._fill_picker(trace)
        self._refresh()

    def _fill_picker(self, trace) -> None:
        layer = trace.layer(self.name)
        if self.kind == "dense":
            labels = _unit_labels(trace, self.name)
            items = [f"class {labels[u]}" if labels else f"unit {u + 1}"
                     for u in range(len(layer.output))]
        elif layer.output.ndim == 3:
            n = layer.output.shape[0]
            items = [f"map {c + 1} of {n}" for c in range(n)]
        else:
            items = []
        if [self.picker.itemText(i) for i in range(self.picker.count())] != items:
            keep = self.picker.currentIndex()
            with QSignalBlocker(self.picker):
                self.picker.clear()
                self.picker.addItems(items)
                self.picker.setCurrentIndex(min(max(keep, 0), len(items) - 1) if items else -1)
        self.picker.setVisible(bool(items))
        self.picker_label.setVisible(bool(items))

    def _picked(self, _i: int) -> None:
        if self.trace is not None:
            self._refresh()

    def _refresh(self) -> None:
        t = self.trace
        layer = t.layer(self.name)
        prev = layer_input(t, self.name)
        ch = self.choice
        steps = steps_for_layer(t, self.name, channel=ch, unit=ch)
        title, words = f"{self.name}: {KIND_WORDS[self.kind]}", ""
        if self.kind == "conv":
            C = prev.output.shape[0]
            in_titles = ([f"{prev.name} ({prev.output.shape[1]}×{prev.output.shape[2]})"]
                         if C == 1 else [f"{prev.name} map {c + 1} of {C}" for c in range(C)])
            if steps.divide:
                title = f"{self.name}: trying every possible match — feature {ch + 1}"
                words = (f"“Trying every possible match.” Each cell: the patch × the ±1 "
                         f"feature, added up, ÷ {steps.divide} "
                         "(the lecture's normalised matching).")
                kname = "feature"
            else:
                words = "Each cell: the patch × the kernel, added up, + bias" + (
                    ", then the ReLU." if steps.relu else ".")
                kname = "kernel"
            show = ConvShow(steps, layer.output[ch], in_titles,
                            f"{self.name} map {ch + 1}", kname)
            self.view.set_show(show, self.player.index)
        elif self.kind == "pool":
            g = geometry(t, self.name)
            H, W = prev.output.shape[1:]
            Ho, Wo = layer.output.shape[1:]
            words = (f"Each {g.size}×{g.size} window keeps its largest value, stride {g.stride}: "
                     f"{H}×{W} becomes {Ho}×{Wo}"
                     + (" (the windows on the edge are partial)." if g.ceil_mode else "."))
            self.view.set_show(PoolShow(steps, layer.output[ch], f"{prev.name} map {ch + 1}",
                                        f"{self.name} map {ch + 1}"), self.player.index)
        elif self.kind in ("relu", "norm"):
            words = ("Rectified linear unit: every negative value becomes 0; "
                     "the rest pass unchanged." if self.kind == "relu" else
                     "Batch norm, as it runs once trained: every value × its map's scale + "
                     "its shift (γ ÷ √(variance + ε) and β − mean × that scale, from the "
                     "statistics of the data it learnt on). The map's pattern stays; its "
                     "level and contrast change.")
            suffix = f" map {ch + 1}" if layer.output.ndim == 3 else ""
            self.view.set_show(ValueShow(steps, f"{prev.name}{suffix}", f"{self.name}{suffix}"),
                               self.player.index)
        elif self.kind == "votes":
            shape = map_shape(t, self.name)
            C = shape[0] if shape else 0
            words = ("“Every value gets a vote, depending on how strongly it predicts X or O.” "
                     "Each value × its weight is added to each class's total.")
            self.view.set_show(VoteShow(steps, list(t.classes), shape,
                                        [f"map {c + 1}" for c in range(C)]), self.player.index)
        elif self.kind == "dense":
            labels = _unit_labels(t, self.name)
            unit = f"the unit of class {labels[ch]}" if labels else f"unit {ch + 1}"
            words = (f"Fully connected: {unit} adds up every one of its {prev.output.size} "
                     "inputs × its weight, + bias.")
            wname = f"weights of class {labels[ch]}" if labels else f"weights of unit {ch + 1}"
            self.view.set_show(DenseShow(steps, layer.output, f"{prev.name} ({prev.output.size})",
                                         wname, f"{self.name} outputs", labels),
                               self.player.index)
        self.title.setText(title)
        self.words.setText(words)
        self.words.setVisible(bool(words))
        self.player.set_count(len(steps))

    def next_cell(self, index: int) -> int:
        steps = getattr(self.view.show_, "steps", None)
        C = getattr(steps, "channels", 1)
        return (index // C + 1) * C

    def _clicked(self, key: str, r: int, c: int) -> None:
        show = self.view.show_
        if show is None:
            return
        if key == "output" and self.kind in ("conv", "pool"):
            self.player.pause()
            s = show.steps
            self.player.seek(s.cell_index(r, c) + getattr(s, "channels", 1) - 1)
        elif key == "output" and self.kind == "dense":
            out = np.asarray(show.output).ravel()
            unit = c if out.size <= 16 else r * int(np.ceil(np.sqrt(out.size))) + c
            if 0 <= unit < out.size:
                self.picker.setCurrentIndex(unit)


def _unit_labels(trace, name: str) -> list[str] | None:
    """Class names for the units of the last dense layer (one per class), else None."""
    layer = trace.layer(name)
    names = [lay.name for lay in trace.layers]
    after = [lay.kind for lay in trace.layers[names.index(name) + 1 :]]
    if len(layer.output) == len(trace.classes) and set(after) <= {"softmax"}:
        return list(trace.classes)
    return None
