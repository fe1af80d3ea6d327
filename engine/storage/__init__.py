"""Everything ConvPad keeps on disk, written the way a database writes.

- :mod:`~engine.storage.files` — atomic writes (temp file, fsync, rename), hashes, paths;
- :mod:`~engine.storage.weights` — safetensors, checked against the architecture;
- :mod:`~engine.storage.cards` — the model card: one format, one reader, one writer;
- :mod:`~engine.storage.images` — image files → drawings;
- :mod:`~engine.storage.datasets` — data sets of drawings (one folder per class);
- :mod:`~engine.storage.class_lists` — a text file of class names, one per line.
"""

from engine.storage.datasets import DataSet, DataStore, ImportReport
from engine.storage.files import write_bytes_atomic
from engine.storage.folders import check_name, read_folder, scan_folder
from engine.storage.images import read_image
from engine.storage.paths import models_folder, new_model_folder, slug, user_data_folder

__all__ = [
    "DataSet", "DataStore", "ImportReport", "check_name", "models_folder",
    "new_model_folder", "read_folder", "read_image", "scan_folder", "slug",
    "user_data_folder", "write_bytes_atomic",
]
