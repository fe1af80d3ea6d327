"""Distilling an ensemble into the one network that ships (Hinton, Vinyals and Dean, 2015).

A recipe with ``teachers`` first trains that many networks of the very same
architecture by the same recipe (without teachers of their own), each from its own seed:
its own strokes, initial weights, order and distortions. The student, the network that
ships, then learns from the labels and from the teachers' averaged predictions on its
own training inputs, which say how much a 4 looks like a 9 where a label only says
"4". It still answers in one forward pass; the teachers are never shipped.

Teachers learn from the same real digits as the student: in cross-validation, from the
training side of the fold only, so no teacher has seen a digit the student is measured
on. Each teacher takes as long as the student, so their predictions are kept in a
file (:func:`save_teachers`: ``<name>-teachers.npz`` beside a shipped model's weights,
one per fold in cross-validation) with everything that made them;
:func:`load_teachers` hands them back only if all of it still matches, and a run
trains them again otherwise.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from engine.spec import Recipe
from engine.storage.files import write_bytes_atomic


def teacher_recipe(recipe: Recipe) -> Recipe:
    """The recipe a teacher of ``recipe``'s student is trained by: the same, no teachers."""
    return replace(recipe, teachers=0, distill=0.0)


def teacher_seeds(recipe: Recipe, seed: int) -> list[int]:
    """The seeds of the teachers of a student trained with ``seed``: the next ones up."""
    return [seed + j for j in range(1, recipe.teachers + 1)]


def teachers_file(folder: Path, name: str, fold: tuple[int, int] | None) -> Path:
    """Where the teachers of model ``name`` (of one cross-validation fold) are kept."""
    tail = "" if fold is None else f"-fold{fold[0]}of{fold[1]}"
    return Path(folder) / f"{name}-teachers{tail}.npz"


def teachers_key(recipe: Recipe, seed: int, fold: tuple[int, int] | None,
                 inputs: torch.Tensor) -> dict[str, Any]:
    """All that decides the teachers' predictions: their recipe and seeds, the fold, and
    the student's inputs they are taken on (by hash: a changed stroke generator or
    preprocessing changes them)."""
    digest = hashlib.sha256(inputs.detach().cpu().contiguous().numpy().tobytes()).hexdigest()
    return {"recipe": asdict(teacher_recipe(recipe)), "seeds": teacher_seeds(recipe, seed),
            "fold": list(fold) if fold else None, "inputs_sha256": digest}


def save_teachers(path: Path, key: dict[str, Any], logits: np.ndarray,
                  info: dict[str, Any]) -> Path:
    """Write the teachers' logits (teachers, inputs, classes) with ``key`` and ``info``
    (accuracies, seconds) to ``path``, atomically. Float16 logits: 0.1 % of a logit is
    far below what changes a soft target."""
    buf = io.BytesIO()
    np.savez_compressed(buf, logits=logits.astype(np.float16),
                        key=np.array(json.dumps(key, sort_keys=True)),
                        info=np.array(json.dumps(info, sort_keys=True)))
    return write_bytes_atomic(path, buf.getvalue())


def load_teachers(path: Path, key: dict[str, Any]) -> tuple[np.ndarray, dict[str, Any]] | None:
    """The logits and info :func:`save_teachers` wrote at ``path``, or None if there is
    no such file, it cannot be read, or it was made for another ``key``."""
    try:
        with np.load(path, allow_pickle=False) as f:
            if json.loads(str(f["key"])) != json.loads(json.dumps(key, sort_keys=True)):
                return None
            return f["logits"].astype(np.float32), json.loads(str(f["info"]))
    except (OSError, ValueError, KeyError):
        return None


def soft_targets(logits: np.ndarray, labels: torch.Tensor, n_strokes: int,
                 recipe: Recipe) -> torch.Tensor:
    """One row of target probabilities per training input: the teachers' mean softmax
    for the real digits; for the strokes, whose labels are never in doubt, the label
    itself, smoothed as the label loss smooths it."""
    z = torch.from_numpy(logits).to(labels.device)
    probs = F.softmax(z, dim=-1).mean(0)
    classes = probs.shape[1]
    smooth = recipe.label_smoothing
    plain = F.one_hot(labels[:n_strokes], classes).float() * (1 - smooth) + smooth / classes
    return torch.cat([plain, probs[n_strokes:]])
