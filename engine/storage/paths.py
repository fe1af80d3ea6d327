"""Where ConvPad keeps what a user makes: one user data folder, the same for app and CLI.

``platformdirs`` gives each system's place (``~/.local/share/ConvPad`` on Linux,
honouring ``XDG_DATA_HOME``; ``~/Library/Application Support/ConvPad`` on macOS;
``%LOCALAPPDATA%\\ConvPad`` on Windows), the place Qt's ``AppDataLocation`` names for an
application called ConvPad. Data sets, saved models, experiments and class drawings
live in sub-folders of it. The shipped ``resources/`` are read-only to the app.
"""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

from platformdirs import user_data_dir

APP = "ConvPad"


def user_data_folder() -> Path:
    """The user data folder (not created here)."""
    return Path(user_data_dir(APP, appauthor=False))


def models_folder() -> Path:
    """Where saved models go, each in a folder of its own."""
    return user_data_folder() / "models"


def slug(title: str) -> str:
    """A folder-name form of ``title``: letters, digits, - and _ only, at most 40."""
    text = re.sub(r"[^A-Za-z0-9_-]+", "-", title).strip("-")[:40]
    return text or "model"


def new_model_folder(title: str) -> Path:
    """A fresh folder name under :func:`models_folder` for a model called ``title``."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return models_folder() / f"{slug(title)}-{stamp}-{secrets.token_hex(2)}"
