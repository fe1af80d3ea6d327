"""ONNX files opened by engine.formats agree with onnxruntime.

The networks are exported by ``torch.onnx.export`` — pytorch/examples' MNIST network
(also with its weights in a ``.onnx.data`` file beside it), one with an exported
Normalize, ``view(x.size(0), -1)``, batch norm and ``x @ W + b``, one on 64×64 — or
written node by node with ``onnx.helper`` (TensorFlow-style "same" padding, uneven pool
padding, Dropout, Identity). Probabilities on 200 digits must match onnxruntime's
within 1e-4, with the same winner each time.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from foreign_nets import (
    assert_agree,
    digits,
    export_onnx,
    module_predict,
    onnx_predict,
    pytorch_mnist_net,
)
from torch import nn

from engine.formats import read_network
from engine.formats.layers import PaddedConv2d, PaddedMaxPool2d, Reshape, Scale

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
helper, TensorProto = onnx.helper, onnx.TensorProto


class Normalised(nn.Module):
    """An exported Normalize, BN after a leaky ReLU, a padded average pool, a
    ``view(x.size(0), -1)`` (Shape → Gather → Unsqueeze → Concat → Reshape) and a
    dense layer written as ``x @ W + b`` (MatMul + Add)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 5, stride=2, padding=2)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.pool = nn.AvgPool2d(3, stride=2, padding=1)
        self.conv3 = nn.Conv2d(16, 16, 3)
        self.w = nn.Parameter(torch.randn(16 * 2 * 2, 10) * 0.5)
        self.b = nn.Parameter(torch.randn(10) * 0.1)
        with torch.no_grad():
            self.bn1.running_mean.uniform_(-0.2, 0.2)
            self.bn1.running_var.uniform_(0.5, 2.0)
            self.bn1.weight.uniform_(0.5, 1.5)

    def forward(self, x):
        x = (x - 0.1307) / 0.3081
        x = self.bn1(F.leaky_relu(self.conv1(x), 0.1))
        x = self.pool(torch.sigmoid(self.conv2(x)))
        x = F.max_pool2d(torch.tanh(self.conv3(x)), 2)
        x = x.view(x.size(0), -1)
        return torch.softmax(x @ self.w + self.b, 1)


class Wide(nn.Module):
    """64×64 input, a global average pool, ``reshape(-1, 32)`` and logits out."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 32, 7, stride=3)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.gap(F.relu(self.conv(x)))
        return self.fc(x.reshape(-1, 32)) * 30


def _handmade(path):
    """A graph written with onnx.helper: SAME_UPPER conv with stride 2 on 28×28, Dropout,
    Identity, a max pool padded only at the bottom/right, an average pool that leaves
    its padding out, Flatten, Gemm with alpha and no transB, LogSoftmax (opset 13)."""
    rng = np.random.default_rng(1)

    def weight(name, *shape, scale=0.3):
        return onnx.numpy_helper.from_array(rng.normal(0, scale, shape).astype(np.float32), name)

    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], "conv1", kernel_shape=[3, 3],
                         strides=[2, 2], auto_pad="SAME_UPPER"),
        helper.make_node("Relu", ["c1"], ["r1"], "relu1"),
        helper.make_node("Dropout", ["r1"], ["d1", "mask"], "drop"),
        helper.make_node("Identity", ["d1"], ["i1"], "same"),
        helper.make_node("MaxPool", ["i1"], ["p1"], "pool1", kernel_shape=[2, 2],
                         strides=[2, 2], pads=[0, 0, 1, 1]),
        helper.make_node("AveragePool", ["p1"], ["p2"], "pool2", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Flatten", ["p2"], ["f"], "flatten"),
        helper.make_node("Gemm", ["f", "w2", "b2"], ["g"], "dense", alpha=0.5),
        helper.make_node("LogSoftmax", ["g"], ["y"], "out"),
    ]
    graph = helper.make_graph(
        nodes, "handmade",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 1, 28, 28])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 10])],
        [weight("w1", 6, 1, 3, 3), weight("b1", 6), weight("w2", 6 * 7 * 7, 10, scale=1.0),
         weight("b2", 10)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save_model(model, str(path))
    return path


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """The ONNX files, the torch modules they came from, and onnxruntime's outputs."""
    folder = tmp_path_factory.mktemp("onnx")
    torch.manual_seed(0)
    modules = {"mnist": pytorch_mnist_net(), "normalised": Normalised().eval(),
               "wide": Wide().eval()}
    files = {name: export_onnx(module, folder / f"{name}.onnx",
                               size=64 if name == "wide" else 28)
             for name, module in modules.items()}
    (folder / "external").mkdir()
    files["external"] = export_onnx(modules["mnist"], folder / "external" / "mnist.onnx",
                                    external=True)
    files["handmade"] = _handmade(folder / "handmade.onnx")
    runtime = {}
    for name, path in files.items():
        x = digits(200, 64 if name == "wide" else 28)
        runtime[name] = (x, onnx_predict(path, x))
    return files, modules, runtime


@pytest.mark.parametrize("name", ["mnist", "external", "normalised", "wide", "handmade"])
def test_probabilities_agree_with_onnxruntime(made, name):
    files, _, runtime = made
    net = read_network(files[name])
    x, want = runtime[name]
    assert net.format == "onnx" and net.input_shape == (1, *x.shape[1:])
    assert_agree(net, module_predict(net, x), want)


def test_pytorch_examples_mnist_net_comes_back_as_written(made):
    files, modules, runtime = made
    net = read_network(files["mnist"])
    assert net.names == ["conv1", "relu", "conv2", "relu_1", "maxpool", "flatten", "fc1",
                         "relu_2", "fc2", "logsoftmax"]
    assert net.kinds == ["conv", "relu", "conv", "relu", "pool", "flatten", "dense", "relu",
                         "dense", "log_softmax"]
    assert (net.output, net.n_outputs) == ("log-probabilities", 10)
    torch_net = modules["mnist"]
    assert net.summary["parameters"] == sum(p.numel() for p in torch_net.parameters())
    assert torch.equal(net.module.conv1.weight, torch_net.conv1.weight)
    assert torch.equal(net.module.fc2.bias, torch_net.fc2.bias)
    assert net.summary["opset"] >= 9 and net.summary["producer"].startswith("pytorch")
    x, _ = runtime["mnist"]
    with torch.inference_mode():
        want = torch_net(torch.from_numpy(x[:, None])).numpy()
    assert_agree(net, module_predict(net, x), want)


def test_external_weights_are_read_from_beside_the_model(made):
    files, _, _ = made
    folder = files["external"].parent
    before = sorted(p.name for p in folder.iterdir())
    net = read_network(files["external"])
    assert net.summary["external_data"] == ["mnist.onnx.data"]
    assert sorted(p.name for p in folder.iterdir()) == before == ["mnist.onnx",
                                                                  "mnist.onnx.data"]


def test_an_exported_normalize_and_view_become_scale_and_reshape(made):
    net = read_network(made[0]["normalised"])
    assert net.kinds == ["scale", "scale", "conv", "activation", "norm", "conv", "activation",
                         "pool", "conv", "activation", "pool", "reshape", "dense", "softmax"]
    sub, div = net.module[0], net.module[1]
    assert isinstance(sub, Scale) and float(sub.offset) == pytest.approx(-0.1307)
    assert float(div.scale) == pytest.approx(1 / 0.3081)
    assert net.module[3].name_of_function == "leaky_relu"
    assert net.module[3].negative_slope == pytest.approx(0.1)
    assert isinstance(net.module[11], Reshape) and net.module[11].shape == (64,)
    assert net.module[12].bias is not None  # MatMul + Add: one dense layer with a bias
    assert net.output == "probabilities"


def test_wide_input_and_logits(made):
    net = read_network(made[0]["wide"])
    assert net.input_shape == (1, 64, 64)
    assert net.kinds == ["conv", "relu", "pool", "reshape", "dense", "scale"]
    assert net.output == "logits"


def test_handmade_graph_keeps_onnx_padding_and_leaves_dropout_out(made):
    net = read_network(made[0]["handmade"])
    assert net.kinds == ["conv", "relu", "pool", "pool", "flatten", "dense", "log_softmax"]
    conv, pool = net.module[0], net.module[2]
    assert isinstance(conv, PaddedConv2d) and conv.pads == (0, 1, 0, 1)
    assert isinstance(pool, PaddedMaxPool2d) and pool.padding == (0, 0)
    assert net.module[3].count_include_pad is False
    assert net.summary["left_out"] == [{"name": "drop", "type": "Dropout"},
                                       {"name": "same", "type": "Identity"}]
    assert net.summary["opset"] == 13
