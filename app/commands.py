"""What the window's commands do: one method per row of :data:`app.actions.ACTIONS`.

Each command is a thin call into the canvas, the live loop or a file dialog; the menu
entry, the toolbar button and the shortcut are one ``QAction`` (STYLE §9). Kept apart
from :mod:`app.window`, which only assembles.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog

from app.notices import cannot
from app.pictures import save_png
from engine import PRESETS, ConvPadError, read_image

MODEL_FILES = ("Models (model.json *.json *.keras *.h5 *.hdf5 *.onnx);;"
               "ConvPad models (model.json);;Keras (*.keras *.h5);;ONNX (*.onnx);;All files (*)")


class Commands:
    """The slots of the window's actions (mixed into :class:`app.window.MainWindow`)."""

    # ----- the drawing --------------------------------------------------------------------
    def clear(self) -> None:
        self.canvas.clear()

    def undo(self) -> None:
        self.canvas.undo()

    def redo(self) -> None:
        self.canvas.redo()

    def set_eraser(self, on: bool) -> None:
        self.canvas.eraser = on

    def thinner_pen(self) -> None:
        self.brush_size.stepDown()

    def thicker_pen(self) -> None:
        self.brush_size.stepUp()

    def load_preset(self, name: str) -> None:
        """Paint one of the lecture's 9×9 pictures as blocks (exact for the X/O toy)."""
        self.canvas.set_grid(PRESETS[name])

    def open_image(self, path: str | Path) -> bool:
        """Put an image file on the canvas; a bad file is a notice, the drawing stays."""
        try:
            ink = read_image(path)
        except ConvPadError as exc:
            self.show_notice(cannot("open the image", exc))
            return False
        self.canvas.set_ink(ink)
        return True

    def open_image_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an image", "",
                                              "Images (*.png *.jpg *.jpeg *.bmp);;All files (*)")
        if path:
            self.open_image(path)

    # ----- models -------------------------------------------------------------------------
    def select_model(self, name: str) -> None:
        """Switch network; the drawing stays and is run through the new one."""
        if name:
            self.live.request(name, self.live.wanted[1] if self.live.wanted else "auto")

    def select_device(self, device: str) -> None:
        """Run the live network on another device (reloads it there)."""
        name = self.live.wanted[0] if self.live.wanted else None
        if device and name:
            self.live.request(name, device)

    def open_model(self, path: str | Path) -> None:
        """Open a saved model (its model.json or folder) or a Keras/ONNX file: it becomes
        live once loaded; a file that cannot be used is a notice and the model stays."""
        self.select_model(str(Path(path).expanduser()))

    def open_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a model", "", MODEL_FILES)
        if path:
            self.open_model(path)

    def set_show_rate(self, on: bool) -> None:
        """Show or hide the update-rate readout (View ▸ Show the update rate)."""
        self.controls.rate_label.setVisible(on)
        self.views.show_rate(on)

    # ----- compare A/B --------------------------------------------------------------------
    def pin_as_a(self) -> None:
        self.live.pin()

    def unpin_a(self) -> None:
        self.live.unpin()

    def compare_diff(self, on: bool) -> None:
        self.live.set_compare("diff" if on else None)

    def compare_a(self, on: bool) -> None:
        self.live.set_compare("A" if on else None)

    # ----- pictures -----------------------------------------------------------------------
    def save_window_png(self, path: str | Path) -> bool:
        """Write a picture of the whole window (False, with a notice, if it cannot)."""
        return self._save_picture(self, path)

    def save_panel_png(self, name: str, path: str | Path) -> bool:
        """Write a picture of one panel (see :meth:`panel` for names)."""
        return self._save_picture(self.panel(name), path)

    def _save_picture(self, widget, path: str | Path) -> bool:
        try:
            save_png(widget, path)
        except ConvPadError as exc:  # WriteError: names the file and why
            self.show_notice(cannot("save the picture", exc))
            return False
        return True

    def save_window_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save window", "convpad.png", "PNG (*.png)")
        if path:
            self.save_window_png(path)

    def save_panel_dialog(self) -> None:
        names = [p.name for p in self.panels()]
        if not names:
            return
        name, ok = QInputDialog.getItem(self, "Save panel", "Panel:", names, 0, False)
        if not ok:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save panel", f"{name}.png", "PNG (*.png)")
        if path:
            self.save_panel_png(name, path)

    def set_presentation(self, on: bool) -> None:
        self.presentation.set(on)
