"""The Explain panel: which method, which class, what the map means, and the toy's check.

The method and the class are chosen here (the X key only turns the canvas overlay on
and off). For the lecture's X/O toy the panel also shows the exact answer: occlusion in
closed form (what each ±1 pixel adds to the class's votes through the features it
matches), beside Captum's occlusion when that is the method — the two must be equal,
which is how a student can trust the maps of the networks where no closed form exists.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from app.numbers import percent_text
from app.stepper.grid import Grid
from app.stepper.paint import Lines
from app.stepper.view import StepView
from engine.explain import METHODS

#: What each method is, in a line a student can read (the picker's tooltips and status).
METHOD_WORDS = {
    "occlusion": "occlusion: cover each patch of the input, see how much the vote drops",
    "integrated-gradients": "integrated gradients: add the ink up from a blank input, "
                            "sum how each pixel moved the vote",
    "saliency": "saliency: how fast the vote moves as each pixel changes (signed)",
    "grad-cam": "Grad-CAM: which places of the last conv layer's maps the vote used",
}


class ToyView(StepView):
    """The toy's closed-form occlusion for the explained class (and Captum's, to match)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("explain_toy_view")
        self.desk = True
        self.exact: np.ndarray | None = None  # (H, W) for the explained class
        self.captum: np.ndarray | None = None
        self.name = ""

    def set_maps(self, exact: np.ndarray | None, captum: np.ndarray | None, name: str) -> None:
        self.exact, self.captum, self.name = exact, captum, name
        self.setVisible(exact is not None)  # the lecture's toy has one; other networks not
        self.invalidate()

    def content(self):
        if self.exact is None:
            return None
        top = float(np.abs(self.exact).max()) or 1.0
        grids = [Grid(self.exact, f"closed form → {self.name}", top, 2, template="-0.00")]
        if self.captum is not None:
            grids.append(Grid(self.captum, "Captum occlusion", top, 2, template="-0.00"))
            gap = float(np.abs(self.exact - self.captum).max())
            # Short lines: the widest line sets the type size of the whole view, maps
            # included, in a narrow dock.
            note = Lines([f"largest difference {gap:.1e}:",
                          "they agree" if gap < 1e-4 else "they differ"])
        else:
            note = Lines(["what each pixel adds to", "the class's votes, exactly"])
        self._shown = list(note.lines)

        def rows():
            m, look, base = self.metrics, self.look(), self.font()
            blocks = [g.block(m, look, base) for g in grids]
            # In a dock taller than wide (the desk's usual) the two maps stack, each
            # twice as large as side by side (they were 90 px wide at 1600×1000).
            stack = len(blocks) > 1 and self.height() > 1.1 * self.width()
            return ([[b] for b in blocks] if stack else [blocks]) + [[note.block(m, look, base)]]

        return grids, rows


class ExplainPanel(QWidget):
    """Method and class pickers, a status line, and the toy's check."""

    choice_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("explain_panel")
        self.method_box = QComboBox()
        self.method_box.setObjectName("explain_method")
        for m in METHODS:
            self.method_box.addItem(m, m)
            self.method_box.setItemData(self.method_box.count() - 1, METHOD_WORDS[m],
                                        3)  # Qt.ToolTipRole
        self.target_box = QComboBox()
        self.target_box.setObjectName("explain_target")
        self.target_box.setToolTip("Which class to explain: the answer, or another "
                                   "(\"why not 1?\")")
        self.method_box.currentIndexChanged.connect(lambda *_: self.choice_changed.emit())
        self.target_box.currentIndexChanged.connect(lambda *_: self.choice_changed.emit())
        form = QFormLayout()
        form.addRow("Method", self.method_box)
        form.addRow("Explain", self.target_box)
        self.status = QLabel("Draw something, then lift the pen.")
        self.status.setObjectName("explain_status")
        self.status.setWordWrap(True)
        legend = QLabel("<b style='color:#d62728'>Red</b>: ink that pushed the vote toward "
                        "the class. <b style='color:#1f77b4'>Blue</b>: ink that pushed it "
                        "away. X shows or hides the map on the drawing.")
        legend.setWordWrap(True)
        self.toy = ToyView()
        self.toy.setMinimumHeight(200)
        box = QVBoxLayout(self)
        box.addLayout(form)
        box.addWidget(legend)
        box.addWidget(self.status)
        box.addWidget(self.toy, 1)
        self.toy.set_maps(None, None, "")
        self.set_classes([])

    @property
    def method(self) -> str:
        return self.method_box.currentData()

    @property
    def target(self) -> int | None:
        """The class index to explain; None: the answer."""
        return self.target_box.currentData()

    def set_method(self, method: str) -> None:
        self.method_box.setCurrentIndex(METHODS.index(method))

    def set_target(self, target: int | None) -> None:
        self.target_box.setCurrentIndex(0 if target is None else target + 1)

    def set_classes(self, classes: list[str]) -> None:
        """A new model: its classes in the picker (the choice goes back to the answer)."""
        self.classes = list(classes)
        self.target_box.blockSignals(True)
        self.target_box.clear()
        self.target_box.addItem("the answer", None)
        for i, c in enumerate(self.classes):
            self.target_box.addItem(c, i)
        self.target_box.blockSignals(False)

    def show_busy(self) -> None:
        self.status.setText(f"{self.method}: working…")

    def show_blank(self) -> None:
        self.status.setText("Draw something, then lift the pen: an empty canvas has no "
                            "answer to explain.")
        self.toy.set_maps(None, None, "")

    def show_failure(self, message: str) -> None:
        self.status.setText(f"Cannot explain: {message}")

    def show_explanation(self, e, seconds: float, toy: np.ndarray | None) -> None:
        name = e.classes[e.target]
        p = float(e.probabilities[e.target])
        what = "the answer" if e.target == e.answer else f"the answer is {e.classes[e.answer]}"
        layer = f" on {e.layer}" if e.layer else ""
        self.status.setText(f"Why {name}? ({what}; {name} {percent_text(p)}). "
                            f"{METHOD_WORDS[e.method]}{layer}. {seconds * 1000:.0f} ms.")
        if toy is None:
            self.toy.set_maps(None, None, "")
        else:
            captum = e.input_map if e.method == "occlusion" else None
            self.toy.set_maps(toy[e.target], captum, name)
