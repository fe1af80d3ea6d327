"""A list of class names in a text file: one name per line, in the order of the outputs.

The ``classes.txt`` beside a Keras or ONNX network, or the file given to the CLI's
``--classes``. UTF-8 (a byte-order mark is allowed), blank lines ignored, each name
held to the one rule for class names (:func:`engine.spec.check_classes`).
"""

from __future__ import annotations

from pathlib import Path

from engine.errors import ConvPadError
from engine.spec import check_classes
from engine.storage.files import display, stat_problem

# A list of a few thousand names is a few tens of kB; a bigger "list" is another file.
MAX_LIST_BYTES = 1 << 20


def read_class_list(path: str | Path, count: int | None = None,
                    whose: str = "the model has") -> tuple[str, ...]:
    """The class names in ``path``, one per line; with ``count``, exactly that many.

    Raises :class:`~engine.errors.ConvPadError` naming the file and what is wrong: not
    readable, not text, a name that cannot be a class name, two names for one class,
    or another number of names than ``count`` ("… names 3 classes, but ``whose``
    10 outputs").
    """
    path = Path(path).expanduser()
    where = display(path)
    problem = stat_problem(path, "file")
    if problem:
        raise ConvPadError(f"{where}: {problem}")
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_LIST_BYTES + 1)
    except OSError as exc:
        raise ConvPadError(f"{where}: cannot be read ({exc.strerror or exc})") from None
    if len(raw) > MAX_LIST_BYTES:
        raise ConvPadError(f"{where}: over {MAX_LIST_BYTES // 2**20} MB, so not a list of "
                           "class names")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConvPadError(f"{where}: not UTF-8 text; write one class name per line") from None
    names = [line.strip() for line in text.splitlines() if line.strip()]
    if count is not None and len(names) != count:
        raise ConvPadError(f"{where}: names {len(names)} class(es), one per line, but {whose} "
                           f"{count} outputs")
    try:
        return check_classes(names, "class names")
    except ConvPadError as exc:
        raise ConvPadError(f"{where}: {exc}") from None


def class_names_arg(value: str) -> Path | tuple[str, ...]:
    """What ``--classes`` names: a file of class names (a path that is there, or a
    value with no comma), else the names themselves, comma-separated (``--classes
    cat,dog,bird``). The names are checked when the model is known (their count)."""
    path = Path(value).expanduser()
    if "," not in value or path.exists():
        return path
    return tuple(name.strip() for name in value.split(","))
