"""Shared set-up for the app tests: offscreen Qt and weights for every model.

``QT_QPA_PLATFORM=offscreen`` is set here, before anything imports Qt, so the GUI
tests run on a machine with no screen (CI, SSH).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def model_weights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Weight overrides for models whose shipped weights are not in resources/ yet.

    The shipped files win whenever they exist, so once resources/digits.safetensors and
    resources/xo.safetensors land, the tests run on them and this returns {}. Before
    that, random (untrained) weights let every panel and picker be tested; tests that
    check a trained model's answer use the X/O toy, whose weights are hand-set.
    """
    from engine import model_spec

    missing = [n for n in ("digits", "xo") if not model_spec(n).weights_path.exists()]
    if not missing:
        return {}
    import torch

    from engine.api import build_module
    from engine.weights import save_weights

    folder = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    return {n: save_weights(build_module(n), folder / f"{n}.safetensors") for n in missing}
