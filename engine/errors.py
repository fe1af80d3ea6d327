"""The errors ConvPad raises on bad input, as one family.

Everything the engine refuses because of what it was given — a weight file, a model
card, an image, a data set, an experiment folder, a network file from another tool, a
name, a number out of range — raises a :class:`ConvPadError` child whose message names
the thing and the reason, in one sentence a person can act on. A caller (the window,
the CLI) shows such a message as "Cannot …: <reason>" and carries on; **any other
exception is a bug** and is shown as one, with its type, never dressed up as a bad file.

``ConvPadError`` is a ``ValueError`` so that scripts written before the family existed
(``except ValueError``) keep working. :class:`WriteError` is also an ``OSError``: it
carries the system's ``errno`` and is what a full or read-only disk gives.

No torch, no Qt: importing this costs nothing.
"""

from __future__ import annotations

__all__ = [
    "CardError",
    "ConvPadError",
    "DataSetError",
    "ExperimentError",
    "ImageError",
    "LimitError",
    "ModelFileError",
    "UnknownModelError",
    "WeightsError",
    "WriteError",
]


class ConvPadError(ValueError):
    """Bad input ConvPad can name; the message says which thing and why (no traceback)."""


class WeightsError(ConvPadError):
    """A weight file cannot be used; the message says which file and why."""


class CardError(ConvPadError):
    """A model card cannot be used; the message names the card and the reason."""


class ImageError(ConvPadError):
    """An image file cannot be used; the message names the file and the reason."""


class DataSetError(ConvPadError):
    """A data set, a class name or a request on a data set cannot be accepted."""


class ExperimentError(ConvPadError):
    """An experiment folder cannot be read or written; the message names the folder,
    what went wrong and what to do (choose another folder, free space …)."""


class ModelFileError(ConvPadError):
    """A network file from another tool (Keras, ONNX) cannot be opened: truncated, not
    what its extension says, an unsupported layer, code that would have to run …"""


class UnknownModelError(ConvPadError):
    """A model name that is neither a shipped model nor a path to a model."""


class LimitError(ConvPadError):
    """A number beyond what ConvPad accepts (a width of 10¹², a grid of 10⁹ points …);
    the message names the parameter and its limit. Raised before anything is allocated."""


class WriteError(OSError, ConvPadError):
    """A file could not be written; nothing already saved was changed.

    ``errno`` is the system's; ``str()`` is the sentence alone, without "[Errno n]".
    """

    def __str__(self) -> str:
        return self.strerror or super().__str__()
