"""The live side of the window, outside any widget: the one live model and its loop.

- :mod:`~app.live.loop` — :class:`Live`: the live model, model requests, devices, the
  input mode, compare A/B and the once-a-frame trace, as signals every view follows;
- :mod:`~app.live.loader` — loading a model in a worker, and its first traces;
- :mod:`~app.live.compare` — compare A/B's state (a pinned drawing "A").
"""

from app.live.compare import Compare
from app.live.loop import FRAME_MS, Live

__all__ = ["FRAME_MS", "Compare", "Live"]
