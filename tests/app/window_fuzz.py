"""A seeded fuzz of the real window: random pen, command, model, device and layout events.

Run as a script (``python tests/window_fuzz.py --sequences 5000 --seed 1``), in its own
process: a crash (a segmentation fault, an abort) kills only this process, and the
caller reads the exit status. ``tests/test_window_fuzz.py`` runs it that way. Each
sequence is a few random actions — strokes that leave the canvas and come back,
undo/redo/clear, eraser, pen sizes, model switches (also in the middle of a stroke),
device switches (also to devices this machine does not have), resizes, presentation
toggles, clicker keys, hovering over panels, editing the toy's features, Teach
checkpoints (of a model trained during the run, live or not), compare pin/unpin, clicks
on sweep points, and settings damaged before a second window opens — followed by letting
the event loop run. It prints one line, ``fuzz: N sequences, M actions, S s, …``, and
exits 0 if the window is still alive and answering at the end.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

DEVICES = ["cpu", "auto", "cuda:99", "mps", "bogus-device"]
SIZES = [(1024, 600), (1280, 720), (1600, 900), (1920, 1080), (800, 500)]


class Fuzzer:
    def __init__(self, seed: int, only: set[str] | None = None) -> None:
        import app
        from engine import list_models

        self.rng = np.random.default_rng(seed)
        self.models = list_models()
        self.window = app.create_main_window(model=self.models[0])
        self.window.resize(1280, 720)
        self.window.show()
        self.actions = 0
        moves = self._moves(only)
        self._actions = [action for _, _, action in moves]
        weights = np.array([weight for _, weight, _ in moves])
        self._p = weights / weights.sum()
        self.trained = False
        # Every notice shown; an "internal error" one is a bug, whatever the window did next.
        self.bugs: list[str] = []
        self.window.notice_shown.connect(
            lambda m: self.bugs.append(m) if "internal error" in m else None)
        deadline = time.time() + 120
        while self.window.model is None and time.time() < deadline:
            QApplication.processEvents()
            time.sleep(0.01)
        if self.window.model is None:
            raise SystemExit(f"fuzz: no model loaded: {self.window.notice.text()}")

    # ----- pieces ---------------------------------------------------------------------
    def _canvas_point(self) -> QPoint:
        c = self.window.canvas
        # A fifth of the points fall outside the canvas: strokes leave and come back.
        x, y = self.rng.uniform(-0.2, 1.2, 2)
        return QPoint(int(x * c.width()), int(y * c.height()))

    def stroke(self, switch_mid: bool) -> None:
        c = self.window.canvas
        QTest.mousePress(c, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         self._canvas_point())
        n = int(self.rng.integers(1, 12))
        for i in range(n):
            QTest.mouseMove(c, self._canvas_point())
            if switch_mid and i == n // 2:
                self.switch_model()
            if self.rng.random() < 0.2:
                QApplication.processEvents()
        QTest.mouseRelease(c, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                           self._canvas_point())

    def switch_model(self) -> None:
        self.window.model_picker.setCurrentIndex(int(self.rng.integers(len(self.models))))

    def switch_device(self) -> None:
        self.window.select_device(DEVICES[int(self.rng.integers(len(DEVICES)))])

    def command(self) -> None:
        w = self.window
        names = ["act_undo", "act_redo", "act_clear", "act_eraser", "act_thinner",
                 "act_thicker"]
        act = [*(w.action(n) for n in names), *w.preset_actions][int(self.rng.integers(9))]
        act.trigger()

    def edit_features(self) -> None:
        """The step-through's features page: flip cells, presets, reset (the toy only)."""
        w = self.window
        if not w.stepper_dock.isVisible():
            w.stepper_dock.show()
            QApplication.processEvents()
        page = w.stepper_panel.features
        r = self.rng.random()
        if r < 0.7:
            page.flip(int(self.rng.integers(3)), int(self.rng.integers(3)),
                      int(self.rng.integers(3)))
        elif r < 0.85:
            from app.stepper.features import PRESETS  # bars and corners for a feature

            page.load_preset(list(PRESETS)[int(self.rng.integers(len(PRESETS)))])
        else:
            page.reset()

    def compare(self) -> None:
        w = self.window
        choice = int(self.rng.integers(4))
        name = ("act_pin", "act_unpin", "act_compare_diff", "act_compare_a")[choice]
        w.action(name).trigger()

    def sweep_click(self) -> None:
        """A click on a point of the sweep panel: that transform applied to the canvas."""
        w = self.window
        panel = w.experiments["sweeps"]
        if not panel.isVisible() and self.rng.random() < 0.5:
            panel.parentWidget().parentWidget().parentWidget().show()
        steps = [{"op": "rotate", "degrees": float(self.rng.choice([-90, -30, 45, 175]))},
                 {"op": "scale", "factor": float(self.rng.choice([0.3, 0.7, 1.6, 2.0]))},
                 {"op": "shift", "dx": int(self.rng.integers(-8, 9)),
                  "dy": int(self.rng.integers(-8, 9))}]
        panel.transform_requested.emit(steps[int(self.rng.integers(3))])

    def checkpoint(self) -> None:
        """Teach: train once in the background; later, pick its checkpoints (the Teach
        model may or may not be the live one: a checkpoint applies to it only)."""
        teach = self.window.teach
        if not self.trained:
            self.trained = True
            from engine.training.custom import example_drawings

            images, labels, _ = example_drawings(3, seed=1, classes=("X", "O"))
            teach.new_set(f"fuzz-{os.getpid()}", ("X", "O"))
            for image, label in zip(images, labels):
                teach.select_class(("X", "O")[int(label)])
                self.window.canvas.set_ink(image)
                teach.add_canvas()
            teach.train()
            return
        if teach.scrub.isEnabled() and teach.scrub.maximum() > 0:
            teach.scrub.setValue(int(self.rng.integers(teach.scrub.maximum() + 1)))

    def damaged_settings(self) -> None:
        """Settings damaged between runs: a second window must still open, with defaults."""
        from PySide6.QtCore import QSettings

        import app

        store = QSettings("ConvPad", "ConvPad")
        bad = [("pen", 10**12), ("pen", "thick"), ("geometry", "not a geometry"),
               ("model", "/no/such/model.json"), ("stage", -5), ("presenting", "maybe"),
               ("input", "sideways"), ("model", "x" * 100_000)]
        for key, value in [bad[int(i)] for i in self.rng.choice(len(bad), 3, replace=False)]:
            store.setValue(key, value)
        store.sync()
        second = app.create_main_window()
        second.close()
        second.deleteLater()

    def pen_size(self) -> None:
        self.window.brush_size.setValue(int(self.rng.integers(1, 100)))

    def resize(self) -> None:
        if not self.window.presenting:
            self.window.resize(*SIZES[int(self.rng.integers(len(SIZES)))])

    def present(self) -> None:
        self.window.action("act_present").trigger()

    def clicker(self) -> None:
        """A presenter's clicker (on the stage) or the same keys on the desk."""
        keys = [Qt.Key.Key_PageDown, Qt.Key.Key_PageUp, Qt.Key.Key_Space, Qt.Key.Key_Home,
                Qt.Key.Key_B, Qt.Key.Key_Right, Qt.Key.Key_Left]
        target = QApplication.focusWidget() or self.window.canvas
        for _ in range(int(self.rng.integers(1, 6))):
            QTest.keyClick(target, keys[int(self.rng.integers(len(keys)))])

    def hover(self) -> None:
        panels = self.window.panels()
        if not panels:
            return
        p = panels[int(self.rng.integers(len(panels)))]
        vp = p.view.viewport()
        x, y = self.rng.uniform(0, 1, 2)
        QTest.mouseMove(vp, QPoint(int(x * vp.width()), int(y * vp.height())))

    def zoom(self) -> None:
        panels = [p for p in self.window.panels() if p.mosaic is not None]
        if panels:
            p = panels[int(self.rng.integers(len(panels)))]
            self.window.open_zoom(p.name, 0)

    def explain(self) -> None:
        """The X key, another method or class to explain, the stage's Explain step."""
        ex = self.window.explainer
        r = self.rng.random()
        if r < 0.4:
            ex.action.trigger()
        elif r < 0.7:
            ex.panel.method_box.setCurrentIndex(int(self.rng.integers(
                ex.panel.method_box.count())))
        else:
            ex.panel.target_box.setCurrentIndex(int(self.rng.integers(
                ex.panel.target_box.count())))

    def class_mode(self) -> None:
        """Open or close the class, a drawing posted, a prompt, a drawing onto the canvas."""
        cm = self.window.classmode
        r = self.rng.random()
        if not cm.is_open or r < 0.15:
            if cm.is_open:
                cm.close()
            else:
                cm.open(host="127.0.0.1")
            return
        if r < 0.6:
            import json
            import threading
            import urllib.request

            body = json.dumps({"name": "fuzz", "width": 300, "height": 300, "strokes": [
                self.rng.uniform(-50, 350, (int(self.rng.integers(1, 20)), 2)).tolist()]})
            url = cm.server.url.replace("/?k=", "/api/drawings?k=")

            def send() -> None:
                try:
                    urllib.request.urlopen(urllib.request.Request(
                        url, data=body.encode(), headers={"Content-Type": "application/json"}),
                        timeout=10).read()
                except OSError:
                    pass  # refused (rate limit, no ink) or closed meanwhile: the app's business

            threading.Thread(target=send, daemon=True).start()
        elif r < 0.8 and cm.entries:
            cm.show_on_canvas(int(self.rng.integers(len(cm.entries))))
        else:
            from app.classmode.sorting import parse_prompt

            words = self.rng.choice(["draw a 7", "fool it: a 3 it reads as an 8", "draw an X",
                                     ""])
            cm.ask(parse_prompt(str(words), list(self.window.model.classes))
                   if words else None)

    # ----- the run --------------------------------------------------------------------
    def sequence(self) -> None:
        for _ in range(int(self.rng.integers(1, 5))):
            self._actions[int(self.rng.choice(len(self._actions), p=self._p))]()
            self.actions += 1
        QApplication.processEvents()
        # What a running event loop does and processEvents() does not: delete the objects
        # given to deleteLater() (without it, every page the run rebuilds is kept alive).
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        if self.rng.random() < 0.3:
            self.window.run_network_now()

    def _moves(self, only: set[str] | None) -> list[tuple[str, float, object]]:
        """(name, weight, action) of every kind of action, or of those ``only`` names."""
        moves = [
            ("stroke", 0.34, lambda: self.stroke(switch_mid=False)),
            ("stroke", 0.08, lambda: self.stroke(switch_mid=True)),
            ("command", 0.16, self.command),
            ("pen_size", 0.06, self.pen_size),
            ("switch_model", 0.08, self.switch_model),
            ("switch_device", 0.05, self.switch_device),
            ("resize", 0.04, self.resize),
            ("present", 0.02, self.present),
            ("hover", 0.12, self.hover),
            ("clicker", 0.04, self.clicker),
            ("zoom", 0.03, self.zoom),
            ("edit_features", 0.04, self.edit_features),
            ("checkpoint", 0.02, self.checkpoint),
            ("compare", 0.03, self.compare),
            ("sweep_click", 0.02, self.sweep_click),
            ("damaged_settings", 0.002, self.damaged_settings),
            ("explain", 0.03, self.explain),
            ("class_mode", 0.03, self.class_mode),
        ]
        return [m for m in moves if m[0] in only] if only else moves

    def finish(self) -> bool:
        """Wait for loads to end, draw the lecture's O, and check an answer comes."""
        w = self.window
        if w.presenting:
            w.action("act_present").trigger()
        w.classmode.close()
        w.live.loader.wait(60)
        w.teach.worker.wait(60)
        QApplication.processEvents()
        w.load_preset("O")
        deadline = time.time() + 30
        while time.time() < deadline:
            QApplication.processEvents()
            w.run_network_now()
            if w.trace is not None and w.prediction.text().strip():
                return True
            time.sleep(0.01)
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", default="",
                        help="comma-separated actions to draw from (e.g. explain,stroke)")
    parser.add_argument("--rss-every", type=int, default=0,
                        help="print the resident memory every N sequences")
    args = parser.parse_args()
    # The fuzz damages settings and trains models: never in the user's own folders.
    private = tempfile.mkdtemp(prefix="convpad-fuzz-")
    os.environ["XDG_CONFIG_HOME"] = os.path.join(private, "config")
    os.environ["XDG_DATA_HOME"] = os.path.join(private, "data")
    QApplication.instance() or QApplication([])
    t0 = time.perf_counter()
    fuzz = Fuzzer(args.seed, {a for a in args.only.split(",") if a})
    for i in range(args.sequences):
        fuzz.sequence()
        if args.rss_every and (i + 1) % args.rss_every == 0:
            with open("/proc/self/statm") as statm:
                rss = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
            print(f"rss: {i + 1} sequences, {rss:.0f} MB", flush=True)
    ok = fuzz.finish()
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"fuzz: {args.sequences} sequences, {fuzz.actions} actions, {seconds:.1f} s, "
          f"seed {args.seed}, peak RSS {peak_mb:.0f} MB, answering at the end: {ok}, "
          f"internal errors shown: {len(fuzz.bugs)}", flush=True)
    for bug in fuzz.bugs[:5]:
        print(f"fuzz: {bug}", flush=True)
    fuzz.window.close()
    return 0 if ok and not fuzz.bugs else 1


if __name__ == "__main__":
    sys.exit(main())
