"""A Keras or ONNX file opens as a ConvPad model like any other: ``load_model(path)``.

Its answers through ``Model.predict`` (preprocessing, batching, the channels-last
copy) match Keras's and onnxruntime's on the same model-ready inputs; every layer is
traced with its kind and receptive field; ``classes.txt`` beside the file names the
classes; the file is read once for ``model_spec`` + ``load_model``; explanations work;
saving is refused by name. The ONNX reader needs only ONNX's protobuf messages.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from foreign_nets import (
    cached,
    digits,
    export_onnx,
    keras,
    keras_predict,
    lecture,
    onnx_predict,
    pooled_keras,
    pooled_torch,
    pytorch_mnist_net,
)

import engine.formats.opening
from engine import ConvPadError, ModelFileError, load_model, model_spec
from engine.catalog import NETWORK_SUFFIXES
from engine.formats import NETWORK_SUFFIXES as READ_SUFFIXES
from engine.lecture import steppable_layers, steps_for_layer
from engine.preprocessing import as_ink, mnist_style

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
helper, TensorProto = onnx.helper, onnx.TensorProto
ROOT = Path(__file__).resolve().parents[2]

# File → what the file's own tool answers with ("keras" or "onnx").
FILES = {"lecture.keras": "keras", "lecture.h5": "keras", "pooled.keras": "keras",
         "mnist.onnx": "onnx", "pooled.onnx": "onnx"}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """The files, and their own tools' outputs on what ConvPad feeds them: 200 MNIST
    digits as ``Model.preprocess`` makes them (crop, scale, centre by mass)."""
    k = keras()
    k.utils.set_random_seed(0)
    drawings = digits(200)
    inputs = np.stack([mnist_style(d) for d in drawings])
    keras_models = {"lecture": lecture(k), "pooled": pooled_keras(k)}
    paths, want = {}, {}
    for file, tool in FILES.items():
        stem = file.split(".")[0]
        if tool == "keras":
            paths[file] = cached(tmp_path_factory, file, keras_models[stem].save)
            want[file] = keras_predict(keras_models[stem], inputs)
        else:
            module = pytorch_mnist_net() if stem == "mnist" else pooled_torch()
            paths[file] = cached(tmp_path_factory, file,
                                 lambda path, m=module: export_onnx(m, path))
            want[file] = np.exp(onnx_predict(paths[file], inputs))  # log-softmax out
    return paths, drawings, inputs, want


@pytest.fixture
def reads(monkeypatch):
    """Counts the files read_network reads, through engine.formats.opening."""
    count: list[Path] = []
    real = engine.formats.opening.read_network

    def counting(path):
        count.append(Path(path))
        return real(path)

    monkeypatch.setattr(engine.formats.opening, "read_network", counting)
    engine.formats.opening.forget()
    return count


def copied(made, file: str, folder: Path) -> Path:
    """``file`` copied alone into ``folder`` (where a classes.txt may be put)."""
    target = folder / file
    target.write_bytes(made[0][file].read_bytes())
    return target


@pytest.mark.parametrize("file", FILES)
def test_predict_agrees_with_the_files_own_tool(made, file):
    paths, drawings, inputs, want = made
    want = want[file]
    model = load_model(paths[file], device="cpu")
    assert np.array_equal(model.preprocess(drawings[0], invert=False), inputs[0][None])
    got = model.predict(drawings, invert=False)  # 200 at once: the channels-last copy
    assert got.shape == want.shape == (200, 10)
    assert np.abs(got - want).max() < 1e-4, np.abs(got - want).max()
    assert (got.argmax(axis=1) == want.argmax(axis=1)).all()
    assert np.ptp(want, axis=0).max() > 0.01  # the answers differ between digits
    # One input at a time (no channels-last copy), and the trace, give the same.
    assert np.abs(model.forward(inputs[:3]) - want[:3]).max() < 1e-4
    trace = model.trace(inputs[5])
    assert np.abs(trace.probabilities - want[5]).max() < 1e-4
    assert trace.prediction == model.classes[int(want[5].argmax())]


def test_the_lecture_model_opens_as_a_model(made):
    path = made[0]["lecture.keras"]
    model = load_model(path, device="cpu")
    assert model.name == str(path.resolve()) and model.title == "lecture.keras (Keras)"
    assert model.classes == [str(d) for d in range(10)]
    assert (model.input_shape, model.spec.head, model.spec.preprocessing) == (
        (1, 28, 28), "softmax", "network")
    assert model.card["format"] == "keras" and model.card["parameters"] == 1_668_490
    assert load_model(model.name, device="cpu").signature == model.signature
    kinds = [kind for _, kind, _ in model.signature[0]]
    assert kinds == ["conv", "relu", "pool", "conv", "relu", "pool", "flatten", "dense",
                     "relu", "dense", "softmax"]
    shapes = [shape for _, _, shape in model.signature[0]]
    assert shapes[0] == (32, 1, 3, 3) and shapes[7] == (1024, 1600)
    assert not model.is_blank(made[1][0]) and model.is_blank(np.zeros((50, 50)))
    assert len(model.weights_sha256) == 64


@pytest.mark.parametrize("file", ["pooled.keras", "pooled.onnx"])
def test_batch_norm_average_and_global_pools_are_traced(made, file):
    model = load_model(made[0][file], device="cpu")
    trace = model.trace(made[2][0])
    kinds = [layer.kind for layer in trace.layers]
    fields = {layer.name: layer.receptive_field for layer in trace.layers}
    if file.endswith(".keras"):
        assert kinds == ["input", "scale", "conv", "norm", "activation", "pool", "conv",
                         "relu", "pool", "dense", "softmax"]
    else:
        assert kinds == ["input", "scale", "scale", "conv", "activation", "norm", "pool",
                         "conv", "relu", "pool", "reshape", "dense", "log_softmax"]
    by_kind = [(layer.kind, fields[layer.name]) for layer in trace.layers[1:]]
    conv1, avg, conv2, gap = [f for kind, f in by_kind if kind in ("conv", "pool")]
    assert (conv1.size, conv1.jump, conv1.offset) == (3, 1, -1)
    assert (avg.size, avg.jump) == (4, 2)  # the 2×2 average pool
    assert (conv2.size, conv2.jump) == (8, 2)
    start, stop = gap.window(0)  # the global pool sees the whole input
    assert start <= 0 and stop >= 28 and gap.size == 8 + 11 * 2
    after = trace.layers[[layer.receptive_field for layer in trace.layers].index(gap) + 1:]
    assert after and all(layer.receptive_field is None for layer in after)
    i = kinds.index("norm")
    norm, before = trace.layers[i], trace.layers[i - 1]
    # A batch norm's weights are what it does to each map at inference, x × scale +
    # shift (for the step-through; only conv layers have filters to show).
    assert norm.weights.shape == norm.bias.shape == (8,)
    np.testing.assert_allclose(
        norm.output, before.output * norm.weights[:, None, None] + norm.bias[:, None, None],
        rtol=1e-4, atol=1e-5)
    assert trace.layers[kinds.index("conv")].weights.shape == (8, 1, 3, 3)
    # A step-through shows max pools only: these average pools are drawn, not stepped.
    stepped = [trace.layer(name).kind for name in steppable_layers(trace)]
    assert stepped == ["conv", "norm", "conv", "relu", "dense"]


def test_the_lecture_models_layers_can_all_be_stepped_through(made):
    trace = load_model(made[0]["lecture.keras"], device="cpu").trace(made[2][0])
    stepped = steppable_layers(trace)
    assert [trace.layer(name).kind for name in stepped] == [
        "conv", "relu", "pool", "conv", "relu", "pool", "dense", "relu", "dense"]
    for name in stepped[:6]:
        steps = steps_for_layer(trace, name, channel=1)
        assert np.allclose(steps.output(), trace.layer(name).output[1], atol=1e-4)


def test_model_spec_and_load_model_read_the_file_once(made, reads, tmp_path):
    path = copied(made, "mnist.onnx", tmp_path)
    spec = model_spec(str(path))
    first = load_model(spec.name, device="cpu")
    second = load_model(path, device="cpu")
    assert reads == [path]
    assert first.module is not second.module  # each model has its own copy
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    load_model(path, device="cpu")
    assert len(reads) == 2  # a changed file is read again


def test_a_big_network_is_handed_over_not_kept(made, reads, monkeypatch, tmp_path):
    monkeypatch.setattr(engine.formats.opening, "KEPT_VALUES", 1000)
    path = copied(made, "mnist.onnx", tmp_path)
    load_model(path, device="cpu")
    assert reads == [path]  # still read once for the spec, the card and the network …
    load_model(path, device="cpu")
    assert len(reads) == 2  # … but not kept once the model has it


def test_classes_txt_beside_the_file_names_the_classes(made, tmp_path):
    path = copied(made, "pooled.onnx", tmp_path)
    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    (tmp_path / "classes.txt").write_text("\n".join(names) + "\n\n", encoding="utf-8")
    model = load_model(path, device="cpu")
    assert model.classes == names
    assert model.trace(made[2][0]).prediction in names
    renamed = load_model(path, device="cpu", classes=[n.upper() for n in names])
    assert renamed.classes[0] == "ZERO"


@pytest.mark.parametrize(("content", "words"), [
    ("a\nb\nc\n", ["names 3 class(es)", "10 outputs"]),
    ("\n".join(["x"] * 10), ["same name"]),
    ("\n".join(["ok/not"] + [str(i) for i in range(9)]), ["'/'"]),
])
def test_a_bad_classes_txt_is_refused_by_name(made, tmp_path, content, words):
    path = copied(made, "mnist.onnx", tmp_path)
    listing = tmp_path / "classes.txt"
    listing.write_text(content, encoding="utf-8")
    with pytest.raises(ModelFileError) as info:
        load_model(path, device="cpu")
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "classes.txt" in message
    assert "\n" not in message
    for word in words:
        assert word in message, message


def test_class_names_can_be_given_to_any_model(tmp_path):
    listing = tmp_path / "names.txt"
    listing.write_text("a\nb\nc\n", encoding="utf-8")
    with pytest.raises(ConvPadError, match=r"names 3 class\(es\), one per line, but digits has"):
        load_model("digits", device="cpu", classes=listing)
    listing.write_text("\ufeffcross\nnought\n", encoding="utf-8")  # a byte-order mark too
    toy = load_model("xo-toy", device="cpu", classes=listing)
    assert toy.classes == ["cross", "nought"] and toy.name == "xo-toy"


def test_saving_is_refused_and_edits_stay_in_memory(made, tmp_path):
    model = load_model(made[0]["pooled.keras"], device="cpu")
    with pytest.raises(ConvPadError, match="tool that made it"):
        model.save(tmp_path / "saved")
    assert not (tmp_path / "saved").exists()
    conv = next(name for name, kind, _ in model.signature[0] if kind == "conv")
    w = model.module.get_submodule(conv).weight.detach().numpy()
    edited = model.with_weights(conv, -w)
    assert edited.edited == (conv,) and edited.title == "pooled.keras (Keras) (edited)"
    x = made[2][:20]
    assert np.abs(edited.forward(x) - model.forward(x)).max() > 1e-3
    with pytest.raises(ConvPadError, match="conv or dense"):
        model.with_weights(next(n for n, k, _ in model.signature[0] if k == "norm"), w)
    with pytest.raises(ConvPadError, match="its own weights"):
        load_model(made[0]["pooled.keras"], device="cpu", weights=tmp_path / "w.safetensors")


@pytest.mark.parametrize("file", ["lecture.keras", "mnist.onnx"])
def test_explain_works_on_an_opened_network(made, file):
    from engine.explain import explain

    model = load_model(made[0][file], device="cpu")
    drawing = np.kron(made[1][3], np.ones((4, 4), np.float32))  # a 112 px canvas
    e = explain(model, drawing, "grad-cam")
    layers = model.signature[0]
    last_conv = max(i for i, (_, kind, _) in enumerate(layers) if kind == "conv")
    assert layers[last_conv + 1][1] == "relu"
    assert e.layer == layers[last_conv + 1][0]  # the last conv layer, after its ReLU
    assert e.image_map.shape == drawing.shape and np.isfinite(e.image_map).all()
    assert np.abs(e.image_map).max() > 0
    assert np.allclose(e.probabilities, model.predict(drawing[None], invert=False)[0])
    occluded = explain(model, drawing, "occlusion")
    assert occluded.input_map.shape == (28, 28) and np.abs(occluded.input_map).max() > 0


def _graph(path: Path, side: tuple[int, int], outputs: int, last: str) -> Path:
    """Flatten → Gemm → ``last`` on a 1×H×W input, written with onnx.helper."""
    rng = np.random.default_rng(0)
    w = onnx.numpy_helper.from_array(
        rng.normal(0, 1, (side[0] * side[1], outputs)).astype(np.float32), "w")
    nodes = [helper.make_node("Flatten", ["x"], ["f"]), helper.make_node("Gemm", ["f", "w"], ["g"]),
             helper.make_node(last, ["g"], ["y"])]
    graph = helper.make_graph(
        nodes, "small", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, *side])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, outputs])], [w])
    onnx.save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
                    str(path))
    return path


def test_a_sigmoid_output_is_shown_as_shares_of_the_scores(tmp_path):
    model = load_model(_graph(tmp_path / "sigmoid.onnx", (12, 12), 3, "Sigmoid"), device="cpu")
    assert model.spec.head == "scores"
    x = np.random.default_rng(1).random((5, 1, 12, 12)).astype(np.float32)
    with torch.inference_mode():
        scores = torch.sigmoid(model.module[:-1](torch.from_numpy(x))).numpy()
    assert np.allclose(model.forward(x), scores / scores.sum(axis=1, keepdims=True), atol=1e-6)
    # A 12×12 network gets the MNIST recipe at its own size: a 9 px digit box.
    assert model.preprocess(np.ones((40, 40), np.float32)).shape == (1, 12, 12)


def test_networks_convpad_cannot_draw_for_are_refused(tmp_path):
    with pytest.raises(ModelFileError, match="28×32 images"):
        model_spec(str(_graph(tmp_path / "wide.onnx", (28, 32), 10, "Softmax")))
    with pytest.raises(ModelFileError, match="1 output"):
        load_model(_graph(tmp_path / "one.onnx", (28, 28), 1, "Sigmoid"))


def test_the_catalog_and_the_readers_know_the_same_suffixes():
    assert NETWORK_SUFFIXES == READ_SUFFIXES


def test_the_tracer_knows_every_layer_a_file_is_rebuilt_from():
    from engine.formats.layers import KINDS as FILE_KINDS
    from engine.tracing import KINDS, layer_kind

    assert all(KINDS[cls] == kind for cls, kind in FILE_KINDS.items())
    types = list(KINDS)
    for i, cls in enumerate(types):  # the first isinstance match wins: subclasses first
        assert not any(issubclass(cls, earlier) for earlier in types[:i]), cls
    assert layer_kind(torch.nn.LogSoftmax(dim=1)) == "log_softmax"


def test_onnx_files_open_without_importing_onnx(made):
    """``import onnx`` costs ~0.6 s; the reader needs only its protobuf messages."""
    code = ("import sys; sys.path.insert(0, sys.argv[2]);"
            "from engine.formats import read_network; net = read_network(sys.argv[1]);"
            "print('onnx' in sys.modules, 'ml_dtypes' in sys.modules, net.kinds[-1])")
    done = subprocess.run([sys.executable, "-c", code, str(made[0]["mnist.onnx"]), str(ROOT)],
                          capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.split() == ["False", "False", "log_softmax"]


@pytest.mark.parametrize("raw", [True, False])
@pytest.mark.parametrize("kind", ["FLOAT", "DOUBLE", "FLOAT16", "BFLOAT16", "INT64", "INT32",
                                  "INT8", "UINT8", "INT16", "UINT16", "BOOL"])
def test_tensors_read_as_onnx_reads_them(kind, raw):
    from engine.formats.onnx_proto import to_array

    values = np.array([[0.0, 1.5, -2.0], [3.25, 100.0, -0.5]])
    data_type = getattr(TensorProto, kind)
    if kind in ("INT64", "INT32", "INT8", "INT16"):
        values = np.array([[0, 1, -2], [3, 100, -5]])
    elif kind in ("UINT8", "UINT16"):
        values = np.array([[0, 1, 2], [3, 100, 5]])
    elif kind == "BOOL":
        values = np.array([[0, 1, 1], [0, 0, 1]], bool)
    tensor = helper.make_tensor("t", data_type, values.shape, values, raw=False)
    if raw:
        tensor = onnx.numpy_helper.from_array(onnx.numpy_helper.to_array(tensor), "t")
    want = onnx.numpy_helper.to_array(tensor)
    got = to_array(tensor)
    assert got.shape == want.shape
    assert np.array_equal(got.astype(np.float64), want.astype(np.float64))


def test_the_mnist_recipe_at_other_sizes_keeps_its_proportions():
    from engine.explain.geometry import placement
    from engine.preprocessing import mnist_box, mnist_style_ink

    assert [mnist_box(n) for n in (28, 64, 12, 2)] == [20, 46, 9, 1]
    ink = as_ink(np.kron(digits(1)[0], np.ones((5, 5), np.float32)), invert=False)
    for size in (28, 64):
        x = mnist_style_ink(ink, size)
        rows, cols = np.nonzero(x > 0)
        assert max(np.ptp(rows), np.ptp(cols)) + 1 == mnist_box(size)
        # Explanations map back through the same recipe.
        assert np.allclose(placement(ink, "mnist", size).network_input(ink), x, atol=1e-5)


def test_as_drawn_feeds_an_opened_network_the_pixels_unchanged(tmp_path):
    """Issue #21: ``--input as-drawn`` for an opened network is the drawing's pixels ÷ 255
    (no contrast stretch, which the shipped 28×28 models get), averaged down only where
    the canvas is not the input's size; centred is the MNIST recipe, stretch included."""
    from engine.explain.geometry import placement

    model = load_model(_graph(tmp_path / "small.onnx", (28, 28), 3, "Softmax"), device="cpu")
    grey = np.zeros((28, 28), np.uint8)
    grey[6:22, 12:16] = 128  # a faint stroke: its brightest pixel is half white
    grey[8, 13] = 40
    ink = as_ink(grey, invert=False)
    x = model.preprocess(grey, invert=False, input="as-drawn")
    np.testing.assert_allclose(x[0], grey / 255.0, atol=1e-6)
    big = model.preprocess(np.kron(grey, np.ones((3, 3), np.uint8)), invert=False,
                           input="as-drawn")
    np.testing.assert_allclose(big[0], grey / 255.0, atol=1e-6)  # 84 px averaged back down
    assert model.preprocess(grey, invert=False).max() == pytest.approx(1.0)  # centred
    # Explain's geometry (the gradients' path) agrees with preprocess in both modes.
    for mode in ("as-drawn", "centred"):
        np.testing.assert_allclose(placement(ink, "network", 28, mode).network_input(ink),
                                   model.preprocess(grey, invert=False, input=mode)[0],
                                   atol=1e-5)
