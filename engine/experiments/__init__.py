"""Drawing experiments: does the vote hold when the drawing is shifted, shrunk, turned?

- :mod:`~engine.experiments.transforms` — shift, scale, rotate, thicken, thin, deform,
  add noise: each an edit of a canvas raster, named by a JSON-ready step;
- :mod:`~engine.experiments.sweeps` — :func:`sweep`: every class's probability under
  rotation, scale and shift, in one batched pass;
- :mod:`~engine.experiments.records` — record drawings and answers as they happen
  (:class:`Recorder`), open and replay them (:func:`open_experiment`, :func:`replay`);
- :mod:`~engine.experiments.sheets` — a contact sheet of a replayed experiment.
"""

from engine.experiments import transforms
from engine.experiments.records import (
    INDEX,
    Experiment,
    Recorder,
    Replayed,
    Row,
    open_experiment,
    png_bytes,
    replay,
)
from engine.experiments.sheets import (
    PLAIN,
    RIGHT,
    WRONG,
    Sheet,
    caption,
    contact_sheet,
    save_contact_sheet,
)
from engine.experiments.sweeps import DEGREES, FACTORS, SHIFTS, Sweep, sweep

__all__ = [
    "DEGREES", "FACTORS", "INDEX", "PLAIN", "RIGHT", "SHIFTS", "WRONG", "Experiment",
    "Recorder", "Replayed", "Row", "Sheet", "Sweep", "caption", "contact_sheet",
    "open_experiment", "png_bytes", "replay", "save_contact_sheet", "sweep", "transforms",
]
