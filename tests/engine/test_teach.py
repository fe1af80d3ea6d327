"""Teach it yourself, engine side: train a model of your own classes, save it, reload it,
keep its drawings — and refuse what cannot work, with a sentence saying why.

No Qt and no mocks. Drawings come from :mod:`engine.data`'s stroke generator; the
held-out drawings come from another seed. Crashes are real: a child process writing
samples and models is killed with SIGKILL, and a child with a file-size limit plays a
full disk.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine import CardError, DataSetError, DataStore, load_model, model_spec, train_model
from engine.errors import WriteError
from engine.storage.folders import read_folder
from engine.training.custom import config_for, example_drawings

ROOT = Path(__file__).resolve().parents[2]
CLASSES = ["X", "O", "4", "7"]


@pytest.fixture(scope="module")
def drawings():
    """12 training drawings per class, and 25 held-out ones per class from another seed."""
    return example_drawings(12, seed=11), example_drawings(25, seed=12)


@pytest.fixture(scope="module")
def trained(drawings, tmp_path_factory):
    """A model trained from random weights for a few epochs, and what progress saw."""
    (images, labels, classes), _ = drawings
    seen: list[tuple[int, dict]] = []
    model = train_model(images, labels, classes, epochs=5, device="cpu", transfer=False,
                        progress=lambda e, m: seen.append((e, m)), data_name="tests")
    card = model.save(tmp_path_factory.mktemp("model"))
    return model, seen, card


def test_a_few_epochs_from_random_weights_beat_chance_by_far(trained, drawings) -> None:
    model, _, _ = trained
    _, (test_x, test_y, _) = drawings
    probs = model.forward(np.stack([model.preprocess(im) for im in test_x]))
    accuracy = float((probs.argmax(1) == test_y).mean())
    assert accuracy >= 0.8, accuracy  # chance is 0.25
    assert model.classes == CLASSES and model.input_shape == (1, 28, 28)


def test_progress_reports_every_epoch_from_the_starting_weights(trained) -> None:
    model, seen, _ = trained
    assert [e for e, _ in seen] == [0, 1, 2, 3, 4, 5]
    for e, m in seen:
        assert m["epoch"] == e and m["epochs"] == 5
        for key in ("loss", "accuracy", "held_out_loss", "held_out_accuracy", "seconds"):
            assert np.isfinite(m[key])
        assert m["model"].classes == CLASSES  # a model of that epoch, for a live view
    first, last = seen[0][1], seen[-1][1]
    assert last["loss"] < first["loss"]
    # Each epoch's model holds that epoch's weights, not the final ones.
    w0 = seen[0][1]["model"].module.conv1.weight
    w5 = seen[-1][1]["model"].module.conv1.weight
    assert not torch.equal(w0, w5)
    best = model.card["best_epoch"]
    assert model.card["held_out"]["accuracy"] == pytest.approx(
        seen[best][1]["held_out_accuracy"], abs=1e-4)
    assert model.stopped == ""


def test_the_network_is_the_xo_family_sized_to_the_classes(trained) -> None:
    model, _, _ = trained
    assert model.spec.architecture == model_spec("xo").architecture
    assert dict(model.spec.config) == config_for(4)
    assert config_for(2) == {k: v for k, v in model_spec("xo").config.items()}
    t = model.trace(model.preprocess(np.eye(64, dtype=np.float32)))
    assert t.layer("conv1").weights.shape == (config_for(4)["conv1"], 1, 3, 3)
    assert t.probabilities.shape == (4,)


def test_saved_model_reloads_from_its_card_or_its_folder(trained, drawings) -> None:
    model, _, card = trained
    (images, _, _), _ = drawings
    assert card.name == "model.json" and model.name == "my X/O/4/7"  # saving changes nothing
    files = sorted(p.name for p in card.parent.iterdir())
    assert len(files) == 2 and files[0].startswith("model-") and files[0].endswith(".safetensors")
    data = json.loads(card.read_text())
    for key in ("classes", "config", "architecture", "epochs", "held_out", "date", "data",
                "weights_sha256"):
        assert key in data
    assert data["data"] == {"name": "tests", "size": 48, "per_class": dict.fromkeys(CLASSES, 12),
                            "held_out": data["held_out"]["n"]}
    for where in (card, card.parent, str(card)):
        again = load_model(where, device="cpu")
        assert again.classes == CLASSES and again.spec.title == "my X/O/4/7"
        for im in images[:4]:
            np.testing.assert_allclose(again.predict(im), model.predict(im), atol=1e-6)
    assert load_model(card, device="cpu").card["best_epoch"] == model.card["best_epoch"]


def _copy_model(card: Path, to: Path) -> Path:
    to.mkdir()
    for p in card.parent.iterdir():
        (to / p.name).write_bytes(p.read_bytes())
    return to / "model.json"


@pytest.mark.parametrize("edit, reason", [
    (lambda d: d.update(card_version=2), "card_version '2' was written by another"),
    (lambda d: d.pop("card"), "not a ConvPad model card"),
    (lambda d: d.update(classes=["X", "O", "4"]), "gives .4,. outputs for 3 classes"),
    (lambda d: (d.update(classes=[*CLASSES, "Z"]), d["config"].update(classes=5)),
     "fc2.weight has shape"),
    (lambda d: d["config"].update(conv1=10), "conv1.weight has shape"),
    (lambda d: d.update(weights_sha256="0" * 64), "the weights were changed"),
    (lambda d: d.update(weights_file="../elsewhere.safetensors"), "in the card's folder"),
    (lambda d: d.update(weights_file="model-000000000000.safetensors"), "is missing"),
    (lambda d: d.pop("input_shape"), "no 'input_shape' field"),
])
def test_a_card_that_disagrees_with_its_weights_is_refused_with_the_reason(
        trained, tmp_path, edit, reason) -> None:
    card = _copy_model(trained[2], tmp_path / "copy")
    data = json.loads(card.read_text())
    edit(data)
    card.write_text(json.dumps(data))
    with pytest.raises(CardError, match=reason.replace("(", r"\(")):
        load_model(card, device="cpu")


def test_changed_weights_are_refused_by_their_hash(trained, tmp_path) -> None:
    card = _copy_model(trained[2], tmp_path / "copy")
    weights = next(card.parent.glob("*.safetensors"))
    raw = bytearray(weights.read_bytes())
    raw[-1] ^= 0x01
    weights.write_bytes(bytes(raw))
    with pytest.raises(CardError, match="SHA-256"):
        load_model(card.parent, device="cpu")
    with pytest.raises(ValueError, match="no such model card"):
        load_model(tmp_path / "nowhere" / "model.json")


def test_stop_ends_training_at_once_and_keeps_the_best_epoch(drawings) -> None:
    (images, labels, classes), _ = drawings
    stop = threading.Event()
    stopped_at: list[float] = []

    def progress(epoch: int, metrics: dict) -> None:
        if epoch == 2:
            stop.set()
            stopped_at.append(time.perf_counter())

    model = train_model(images, labels, classes, epochs=200, device="cpu",
                        progress=progress, stop=stop)
    assert time.perf_counter() - stopped_at[0] < 2.0
    assert model.card["epochs"] == 2 and model.card["best_epoch"] <= 2
    assert "stopped at epoch 3" in model.stopped and "kept the weights of epoch" in model.stopped


def test_a_loss_gone_nan_stops_and_keeps_the_last_good_weights(drawings) -> None:
    (images, labels, classes), _ = drawings
    model = train_model(images[:16], labels[:16], classes, epochs=30, device="cpu", lr=1e12)
    assert "the loss became" in model.stopped and "too high" in model.stopped
    for p in model.module.parameters():
        assert torch.isfinite(p).all()
    assert np.isfinite(model.predict(images[0])).all()


@pytest.mark.parametrize("labels, classes, message", [
    ([0, 0, 0], ["X"], r"only 1 class \('X'\): teach at least two"),
    ([0, 0, 1], ["X", "O"], "class 'O' has 1; each class needs at least 2"),
    ([0, 0, 0, 0], ["X", "O", "△"], "class 'O' has 0, class '△' has 0"),
    ([0, 0, 5, 5], ["X", "O"], "labels must index the 2 classes"),
    ([0] * 22, [str(i) for i in range(11)], "at most 10"),
])
def test_too_little_data_is_refused_naming_the_class(labels, classes, message) -> None:
    images = [np.eye(40, dtype=np.float32)] * len(labels)
    with pytest.raises(ValueError, match=message):
        train_model(images, np.array(labels), classes, epochs=1, device="cpu")


# ----- the data-set store ---------------------------------------------------------------
def _ink(seed: int, size: int = 120) -> np.ndarray:
    im = np.zeros((size, size), np.float32)
    r = np.random.default_rng(seed)
    im[r.integers(10, 50):r.integers(60, 110), r.integers(10, 50):r.integers(60, 110)] = 1.0
    return im


def test_a_data_set_keeps_its_drawings_and_classes_across_sessions(tmp_path) -> None:
    store = DataStore(tmp_path)
    ds = store.create("shapes", ["X", "O"])
    ds.add_class("triangle")
    made = [ds.add(c, _ink(i)) for i, c in enumerate(["X", "X", "O", "triangle", "triangle"])]
    assert ds.counts() == {"X": 2, "O": 1, "triangle": 2}
    moved = ds.move(made[0], "O")
    ds.delete(made[3])
    ds.rename_class("triangle", "tri")
    again = DataStore(tmp_path).open("shapes")  # a new session
    assert again.classes == ["X", "O", "tri"] and again.counts() == {"X": 1, "O": 2, "tri": 1}
    np.testing.assert_allclose(again.read(moved), _ink(0), atol=1 / 255)
    images, labels, classes = again.arrays()
    assert len(images) == 4 and list(labels) == [0, 1, 1, 2] and classes == ["X", "O", "tri"]
    assert DataStore(tmp_path).names() == ["shapes"]
    with pytest.raises(DataSetError, match="already a class 'X'"):
        again.add_class(" X ")
    with pytest.raises(DataSetError, match="contains '/'"):
        again.add_class("a/b")
    for i in range(7):
        again.add_class(f"c{i}")
    with pytest.raises(DataSetError, match="at most 10 classes"):
        again.add_class("eleventh")


def test_a_data_set_follows_no_links_and_knows_cat_is_cat(tmp_path) -> None:
    """Issue #18, item 13, for Teach's own data sets as for imported folders: a link
    in a class folder is not followed (it could lead out of the set) and is named; a
    folder whose name equals another's after NFC + casefold is left out and named."""
    store = DataStore(tmp_path / "store")
    ds = store.create("s", ["Cat", "dog"])
    ds.add("Cat", _ink(0))
    ds.add("dog", _ink(1))
    outside = tmp_path / "outside.png"
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(outside)
    (ds.path / "Cat" / "link.png").symlink_to(outside)
    (ds.path / "cat").mkdir()
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(ds.path / "cat" / "1.png")
    (ds.path / "do\u0301g").mkdir()  # "dóg" in NFD: not "dog", a class of its own
    (ds.path / "DOG").mkdir()
    again = store.open("s")
    assert again.classes == ["Cat", "dog", "do\u0301g"]
    assert again.counts() == {"Cat": 1, "dog": 1, "do\u0301g": 0}
    assert len(again.arrays()[0]) == 2
    problems = " | ".join(again.problems)
    assert "Cat/link.png: a symbolic link; not followed" in problems
    assert "cat/ and Cat/ are the same class name" in problems
    assert "DOG/ and dog/ are the same class name" in problems


def test_importing_a_folder_skips_each_bad_file_with_a_reason(tmp_path) -> None:
    src = tmp_path / "src"
    (src / "X").mkdir(parents=True)
    (src / "O").mkdir()
    # dark ink on white paper, as a scan: read_image must invert it
    Image.fromarray(((1 - _ink(1)) * 255).astype(np.uint8)).save(src / "X" / "a.png")
    Image.fromarray((_ink(2) * 255).astype(np.uint8)).save(src / "X" / "b.jpg")
    Image.fromarray((_ink(3) * 255).astype(np.uint8)).save(src / "O" / "c.png")
    (src / "O" / "notes.txt").write_text("not an image")
    good = (src / "O" / "c.png").read_bytes()
    (src / "O" / "cut.png").write_bytes(good[: len(good) // 2])
    Image.new("L", (400, 300), 255).save(src / "O" / "huge.png")
    Image.new("L", (50, 50), 0).save(src / "O" / "empty.png")
    (src / "loose.png").write_bytes(good)
    ds = DataStore(tmp_path / "store").create("imported")
    report = ds.import_folder(src, max_pixels=100_000)
    assert report.imported == {"O": 1, "X": 2} and ds.classes == ["O", "X"]
    reasons = "\n".join(report.skipped)
    assert len(report.skipped) == 5, reasons
    for part in ("notes.txt: not an image", "cut.png: truncated or corrupt",
                 "huge.png: image is 400×300 pixels", "empty.png: no ink",
                 "loose.png: not inside a class folder"):
        assert part in reasons
    stored = ds.read(ds.samples("X")[0])
    assert stored[0, 0] == 0 and stored.max() == 1.0  # the scan became white ink on black
    _images, labels, classes, skipped = read_folder(src, max_pixels=100_000)
    assert classes == ["O", "X"] and list(labels) == [0, 1, 1] and len(skipped) == 5


# ----- crashes and full disks: real child processes -------------------------------------
WRITER = textwrap.dedent("""
    import sys, numpy as np, torch
    from engine import DataStore, train_model
    from engine.training.custom import user_spec
    from engine.architectures import build_module
    from engine.model import Model

    root = sys.argv[1]
    ds = DataStore(root).open("kill")
    spec = user_spec([str(k) for k in range(10)])  # the widest model: the longest writes
    net = build_module(spec)
    rng = np.random.default_rng(int(sys.argv[2]))
    print("ready", flush=True)
    i = 0
    while True:
        # noise compresses badly: big PNGs, long writes, easy to interrupt
        for _ in range(4):
            ds.add("a", rng.random((324, 324), dtype=np.float32))
        with torch.no_grad():
            for p in net.parameters():
                p.add_(1.0)  # new weights, new hash: a new pair every time
        Model(spec, net, torch.device("cpu")).save(root + "/model")
        i += 1
""")


def _check_consistent(root: Path, before: int) -> int:
    ds = DataStore(root).open("kill")  # clears what the killed writer left
    files = ds.samples("a")
    for f in files:
        with Image.open(f) as im:
            im.load()  # a half-written PNG fails here
            assert im.size == (324, 324)
    assert len(files) >= before
    leftovers = [p for p in (root / "kill" / "a").iterdir() if p not in files]
    assert not leftovers, leftovers
    if (root / "model" / "model.json").exists():
        m = load_model(root / "model", device="cpu")  # old pair or new pair, never a mix
        assert m.classes == [str(k) for k in range(10)]
        assert len(list((root / "model").glob("*.safetensors"))) <= 2
    return len(files)


def test_samples_and_models_survive_kill_9_at_random_moments(tmp_path) -> None:
    DataStore(tmp_path).create("kill", ["a"])
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    rnd = random.Random(7)
    n = 0
    for round_ in range(3):
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(round_)],
                                 stdout=subprocess.PIPE, text=True, env=env)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rnd.uniform(0.2, 1.0))
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        n = _check_consistent(tmp_path, n)
    assert n > 0


FULL_DISK = textwrap.dedent("""
    import resource, signal, sys, numpy as np, torch
    from engine import DataStore, load_model
    from engine.errors import WriteError

    root, model_dir = sys.argv[1], sys.argv[2]
    ds = DataStore(root).open("full")
    model = load_model(model_dir, device="cpu")
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a dead process
    resource.setrlimit(resource.RLIMIT_FSIZE, (4000, 4000))  # files over 4 kB: "disk full"
    for what, write in (("sample", lambda: ds.add("a", np.random.default_rng(0).random(
            (324, 324), dtype=np.float32))), ("model", lambda: model.save(model_dir))):
        try:
            write()
            print(what, "saved?!")
        except WriteError as exc:
            print(what, "refused:", exc)
""")


def test_a_full_disk_refuses_the_write_and_damages_nothing(trained, tmp_path) -> None:
    ds = DataStore(tmp_path).create("full", ["a"])
    kept = ds.add("a", _ink(5))
    before = kept.read_bytes()
    model_dir = _copy_model(trained[2], tmp_path / "model").parent
    saved = {p.name: p.read_bytes() for p in model_dir.iterdir()}
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", FULL_DISK, str(tmp_path), str(model_dir)],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("sample refused: cannot write") and "larger than" in lines[0]
    assert lines[1].startswith("model refused: cannot write a model to"), lines
    assert ds.samples("a") == [kept] and kept.read_bytes() == before
    assert {p.name: p.read_bytes() for p in model_dir.iterdir()} == saved  # no temp left
    assert load_model(model_dir, device="cpu").classes == CLASSES


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_refuses_the_write_with_a_reason(tmp_path) -> None:
    ds = DataStore(tmp_path).create("ro", ["a"])
    kept = ds.add("a", _ink(1))
    (tmp_path / "ro" / "a").chmod(0o555)
    try:
        with pytest.raises(WriteError, match="not writable"):
            ds.add("a", _ink(2))
    finally:
        (tmp_path / "ro" / "a").chmod(0o755)
    assert ds.samples("a") == [kept]


# ----- the command line -----------------------------------------------------------------
def test_convpad_train_data_trains_a_folder_and_model_opens_it(tmp_path, capsys) -> None:
    import main

    images, labels, classes = example_drawings(4, seed=3, classes=("X", "O"))
    for i, (im, y) in enumerate(zip(images, labels)):
        folder = tmp_path / "tree" / classes[y]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray((im * 255).astype(np.uint8)).save(folder / f"{i}.png")
    (tmp_path / "tree" / "O" / "readme.txt").write_text("hello")
    out = tmp_path / "out"
    status = main.main(["train", "--data", str(tmp_path / "tree"), "--epochs", "2",
                        "--out", str(out), "--device", "cpu"])
    printed = capsys.readouterr()
    assert status == 0, printed.err
    assert "skipped: O/readme.txt: not an image" in printed.err
    assert "2/2" in printed.err  # the tqdm bar reached its last epoch
    summary = json.loads(printed.out)
    assert summary["card"] == str(out / "model.json") and summary["classes"] == ["O", "X"]
    assert summary["data"]["size"] == 8 and summary["epochs"] == 2
    written = json.loads((out / "model.json").read_text(encoding="utf-8"))
    assert summary["date"] == written["date"] is not None  # what was written, not before
    assert main.model_problem(str(out)) is None  # `convpad --model FOLDER` opens it
    assert load_model(str(out), device="cpu").classes == ["O", "X"]
    (out / "model.json").write_text("{}")
    assert main.main(["--model", str(out)]) == 2  # refused in one line, before any window
    err = capsys.readouterr().err
    assert "not a ConvPad model card" in err and err.count("\n") == 1
    assert main.main(["train"]) == 2 and "either a shipped model" in capsys.readouterr().err
