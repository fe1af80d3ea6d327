"""``python -m app.stepper [MODEL]``: the step-through on its own window, full screen."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from app.stepper.panel import LessonsWindow


def main(argv: list[str]) -> int:
    app = QApplication.instance() or QApplication(argv[:1])
    window = LessonsWindow(model=argv[1] if len(argv) > 1 else "xo-toy")
    window.showFullScreen()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
