"""Weights and card are written like a database writes: a kill -9 never leaves a mix.

A child process rewrites a model (card + weights, :func:`engine.storage.cards.write_pair`,
the one way ConvPad saves) in a loop, alternating two different models, and is killed
with SIGKILL at a random moment. Whatever instant the kill lands on, the card on disk
must be whole and name weights that are whole and are exactly the ones it describes:
the old pair or the new one.
"""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import time

import pytest
import torch

from engine.architectures import build_module
from engine.catalog import model_spec
from engine.storage.cards import card_fields, read_card, write_pair
from engine.storage.weights import load_weights, weights_bytes

# Kills until at least two have landed inside a write (a temporary file is left behind)
# and at least MIN_ROUNDS in all; about one kill in four lands inside one.
MIN_ROUNDS, MAX_ROUNDS, MIN_CUT = 8, 60, 2

def _model(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_module("digits")  # 6.7 MB: a write takes long enough to be hit mid-way


def _write_pair(module: torch.nn.Module, folder, which: int, n: int) -> None:
    fields = card_fields(model_spec("digits")) | {"which": which, "n": n}
    write_pair(weights_bytes(module), folder, fields, stem="digits")


def _writer(folder, models) -> None:
    """The child: rewrite the pair forever, alternating the two models, until killed."""
    try:
        n = 0
        while True:
            _write_pair(models[n % 2], folder, n % 2, n)
            n += 1
    finally:
        os._exit(1)  # never return into pytest's own code in the child


def _which(module: torch.nn.Module, models) -> int:
    state = module.state_dict()
    for i, model in enumerate(models):
        if all(torch.equal(state[k], v) for k, v in model.state_dict().items()):
            return i
    raise AssertionError("the weights on disk are neither the old nor the new model")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork and SIGKILL")
def test_a_kill_at_any_moment_leaves_the_old_or_the_new_pair(tmp_path) -> None:
    models = [_model(0), _model(1)]
    _write_pair(models[0], tmp_path, 0, -1)  # the pair on disk before the first round
    rng = random.Random(0)
    rounds = 0
    cut = {"weights": 0, "card": 0}
    while rounds < MAX_ROUNDS and (rounds < MIN_ROUNDS or sum(cut.values()) < MIN_CUT):
        rounds += 1
        before = set(tmp_path.iterdir())
        pid = os.fork()
        if pid == 0:
            _writer(tmp_path, models)
        time.sleep(rng.uniform(0.02, 0.3))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        for new in set(tmp_path.iterdir()) - before:  # a kill mid-write leaves its temp file
            cut["weights" if new.name.startswith(".digits.safetensors.") else "card"] += 1

        card = read_card(tmp_path / "digits.json")  # whole, and its weights' hash matches
        loaded = build_module("digits")
        load_weights(loaded, card.weights)  # whole file
        assert _which(loaded, models) == card.fields["which"]
        assert json.loads((tmp_path / "digits.json").read_text()) == card.fields
    print(f"{rounds} kills: {cut} inside a write")
    assert sum(cut.values()) >= MIN_CUT, "too few kills landed inside a write to prove much"

def test_weights_and_card_get_the_same_mode_and_respect_the_umask(tmp_path) -> None:
    for umask in (0o022, 0o077, 0o002):
        old = os.umask(umask)
        try:
            folder = tmp_path / f"u{umask:o}"
            folder.mkdir()
            _write_pair(build_module("digits"), folder, 0, 0)
        finally:
            os.umask(old)
        weights = read_card(folder / "digits.json").weights
        for path in (weights, folder / "digits.json"):
            mode = stat.S_IMODE(path.stat().st_mode)
            assert mode == 0o666 & ~umask, (path.name, oct(mode), oct(umask))
