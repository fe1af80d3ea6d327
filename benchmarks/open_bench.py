"""How long opening a ~5 MB Keras or ONNX network takes (target: ≤ 1 s each).

Builds, in a temporary folder, the lecture's Keras CNN with a 768-unit dense layer
(1.25 M weights, about 5 MB) saved as ``.keras`` and ``.h5`` by Keras (torch backend;
skipped when Keras is missing), and pytorch/examples' MNIST network (1.2 M weights,
4.8 MB) exported to ``.onnx``, both inline and with its weights in ``.onnx.data``.
Then times, the formats interleaved, against the floor of reading the same bytes:

- ``read``: ``engine.formats.read_network`` alone;
- ``open``: what a user waits for — ``engine.load_model(path)`` (the spec, the
  network, the model's checks) plus the first ``predict`` of a drawing.

Each run opens the file as if for the first time: the kept network
(:mod:`engine.formats.opening`) is dropped and the child process that reads an HDF5
file first (:mod:`engine.formats.hdf5_check`) runs again. A "fresh process" figure
times the first open (and predict) in a new interpreter that has already imported
torch, as the app has: it includes importing h5py or ONNX's protobuf messages and
ConvPad's readers::

    python benchmarks/open_bench.py [--runs 20] [--threads 1] [--json]

``--threads`` sets torch's threads (default: every core; 1 while another job holds a
core). ``--json`` prints one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "engine"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from engine import load_model  # noqa: E402
from engine.formats import hdf5_check, opening, read_network  # noqa: E402


def make_files(folder: Path) -> dict[str, Path]:
    """The networks to open, by label."""
    from foreign_nets import export_onnx, pytorch_mnist_net

    files: dict[str, Path] = {}
    try:
        import keras

        L = keras.layers
        model = keras.Sequential([
            keras.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(),
            L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(), L.Flatten(),
            L.Dropout(0.5), L.Dense(768, activation="relu"), L.Dense(10, activation="softmax"),
        ])
        files["keras .keras"] = folder / "lecture.keras"
        files["keras .h5"] = folder / "lecture.h5"
        model.save(files["keras .keras"])
        model.save(files["keras .h5"])
    except ImportError:
        print("keras is not installed: the Keras files are skipped")
    files["onnx"] = export_onnx(pytorch_mnist_net(), folder / "mnist.onnx")
    (folder / "external").mkdir()
    files["onnx + .data"] = export_onnx(pytorch_mnist_net(), folder / "external" / "mnist.onnx",
                                        external=True)
    return files


def drawing() -> np.ndarray:
    """A 280 px canvas with a stroke on it, as the pad hands one over."""
    canvas = np.zeros((280, 280), np.uint8)
    canvas[40:240, 130:150] = 255
    return canvas


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.parent.glob(f"{path.name}*")) / 2**20


def floor(path: Path) -> None:
    for p in path.parent.glob(f"{path.name}*"):
        p.read_bytes()


def first_time() -> None:
    """Forget every file read so far: the next open reads and checks it afresh."""
    hdf5_check._READ_WELL.clear()
    opening.forget()


def open_and_predict(path: Path) -> None:
    load_model(path, device="cpu").predict(drawing()[None])


def fresh_process(path: Path, threads: int, what: str) -> float:
    """Seconds for the first ``what`` ("read" or "open") in a new interpreter that has
    already imported torch."""
    run = ("from engine.formats import read_network; read_network(sys.argv[1])"
           if what == "read" else
           "import numpy as np; from engine import load_model; c = np.zeros((280, 280), "
           "np.uint8); c[40:240, 130:150] = 255; "
           "load_model(sys.argv[1], device='cpu').predict(c[None])")
    code = (f"import sys, time, torch; torch.set_num_threads({threads}); "
            f"sys.path.insert(0, sys.argv[2]); t = time.perf_counter(); {run}; "
            "print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code, str(path), str(ROOT)], check=True,
                         capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--threads", type=int, default=max(1, os.cpu_count() or 1))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    steps = {"read": read_network, "open": open_and_predict}
    with tempfile.TemporaryDirectory() as tmp:
        files = make_files(Path(tmp))
        times = {(label, step): [] for label in files for step in [*steps, "floor"]}
        for path in files.values():
            for step in steps.values():
                step(path)  # warm: imports, file cache
        for _ in range(args.runs):
            for label, path in files.items():
                for step, fn in steps.items():
                    first_time()
                    t = time.perf_counter()
                    fn(path)
                    times[label, step].append(time.perf_counter() - t)
                t = time.perf_counter()
                floor(path)
                times[label, "floor"].append(time.perf_counter() - t)
        fresh = {(label, step): fresh_process(path, args.threads, step)
                 for label, path in files.items() for step in steps}
        result: dict[str, dict[str, float]] = {}
        print(f"opening a network, {args.runs} runs each, torch on {args.threads} of "
              f"{os.cpu_count()} CPU cores (torch {torch.__version__})")
        for label, path in files.items():
            result[label] = {"mb": round(size_mb(path), 2),
                             "floor_s": round(statistics.median(times[label, "floor"]), 4)}
            for step in steps:
                median = statistics.median(times[label, step])
                worst = max(times[label, step])
                result[label] |= {f"{step}_median_s": round(median, 4),
                                  f"{step}_max_s": round(worst, 4),
                                  f"{step}_fresh_process_s": round(fresh[label, step], 4)}
                print(f"  {label:13s} {size_mb(path):4.1f} MB  {step:4s}  median "
                      f"{median:6.3f} s   max {worst:6.3f} s   fresh process "
                      f"{fresh[label, step]:6.3f} s   "
                      f"{'ok' if max(worst, fresh[label, step]) <= 1.0 else 'OVER 1 s'}")
            print(f"  {'':13s} {'':4s}     (read the bytes: {result[label]['floor_s']:.4f} s)")
        if args.json:
            print(json.dumps(result))


if __name__ == "__main__":
    main()
