"""Keras files opened by engine.formats agree with Keras itself.

Every network here is built and saved by real Keras (torch backend) — ``.keras`` and
``.h5`` — or written in Keras 2's ``.h5`` layout with h5py; its probabilities on 200
MNIST digits must match ``model.predict`` within 1e-4, with the same winner each time.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from foreign_nets import (
    assert_agree,
    avg_same,
    digits,
    keras,
    keras_predict,
    lecture,
    module_predict,
    rescale_reshape,
    same_stride2,
    three_conv_bn,
    write_keras2_h5,
)
from torch import nn

from engine.formats import read_network
from engine.formats.layers import (
    KINDS,
    ChannelsLastFlatten,
    PaddedAvgPool2d,
    PaddedConv2d,
    Reshape,
    Scale,
    avg_pool2d,
    same_pads,
)
from engine.tracing import check_sequential, receptive_fields

BUILDERS = {f.__name__: f for f in (lecture, three_conv_bn, same_stride2, avg_same,
                                    rescale_reshape)}
# File → the model it holds: Keras 3's own .keras and .h5, and Keras 2's .h5 layout.
FILES = [
    *[f"{name}{suffix}" for name in BUILDERS for suffix in (".keras", ".h5")],
    "lecture_keras2.h5", "three_conv_bn_keras2.h5", "same_stride2_keras2.h5",
    "channelless.keras", "logits.h5",
]


def _small_models(k):
    L = k.layers
    channelless = k.Sequential([k.Input((28, 28)), L.Flatten(), L.Dense(64, activation="relu"),
                                L.Dense(10, activation="softmax")])
    logits = k.Sequential([k.Input((28, 28, 1)), L.Conv2D(4, 5, strides=3), L.Flatten(),
                           L.Dense(10)])
    return {"channelless": channelless, "logits": logits}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Every file of FILES in one folder, and Keras's predictions for each model."""
    k = keras()
    k.utils.set_random_seed(0)
    folder = tmp_path_factory.mktemp("keras")
    models = {name: build(k) for name, build in BUILDERS.items()}
    for name, model in models.items():
        model.save(folder / f"{name}.keras")
        model.save(folder / f"{name}.h5")
    small = _small_models(k)
    small["channelless"].save(folder / "channelless.keras")
    small["logits"].save(folder / "logits.h5")
    models |= small
    write_keras2_h5(folder / "lecture_keras2.h5", models["lecture"])
    write_keras2_h5(folder / "three_conv_bn_keras2.h5", models["three_conv_bn"],
                    functional=True)
    write_keras2_h5(folder / "same_stride2_keras2.h5", models["same_stride2"],
                    input_layer=False)
    predictions = {}
    for name, model in models.items():
        x = _inputs(name, model.input_shape[1])
        predictions[name] = (x, keras_predict(model, x))
    return folder, models, predictions


def _inputs(name: str, size: int) -> np.ndarray:
    x = digits(200, size)
    return x * 255 if name == "rescale_reshape" else x  # it rescales from 0..255 itself


def _model_of(file: str) -> str:
    return file.split(".")[0].removesuffix("_keras2")


@pytest.mark.parametrize("file", FILES)
def test_probabilities_agree_with_keras(made, file):
    folder, _, predictions = made
    net = read_network(folder / file)
    x, want = predictions[_model_of(file)]
    assert net.input_shape == (1, *x.shape[1:])
    assert_agree(net, module_predict(net, x), want)


@pytest.mark.parametrize("file", FILES)
def test_children_are_traceable(made, file):
    """Each child's kind is the one its type maps to, conv/pool children carry
    kernel/stride/padding, and walking the children reproduces the module."""
    net = read_network(made[0] / file)
    children = list(net.module.named_children())
    assert len(children) == len(net.kinds) == len(net.summary["layers"])
    for (name, child), kind in zip(children, net.kinds):
        assert name.isidentifier()
        assert next(k for cls, k in KINDS.items() if isinstance(child, cls)) == kind
        if kind in ("conv", "pool"):
            assert all(hasattr(child, a) for a in ("kernel_size", "stride", "padding"))
    check_sequential(net.module, [(n, c, k) for (n, c), k in zip(children, net.kinds)],
                     net.input_shape, torch.device("cpu"))


def test_the_lecture_model_reads_like_keras(made):
    folder, models, _ = made
    net = read_network(folder / "lecture.keras")
    assert net.kinds == ["conv", "relu", "pool", "conv", "relu", "pool", "flatten", "dense",
                         "relu", "dense", "softmax"]
    assert net.names[-1] == f"{net.names[-2]}_softmax"  # Dense(softmax) split in two
    assert (net.output, net.n_outputs, net.format) == ("probabilities", 10, "keras")
    assert net.summary["parameters"] == models["lecture"].count_params()
    assert net.summary["left_out"] == [{"name": models["lecture"].layers[5].name,
                                        "type": "Dropout"}]
    assert net.summary["keras_version"] == keras().__version__
    assert net.summary["layers"][0]["output_shape"] == [32, 26, 26]
    kernel = models["lecture"].layers[0].get_weights()[0]
    assert np.array_equal(net.module[0].weight.detach().numpy(), kernel.transpose(3, 2, 0, 1))
    assert receptive_fields(net.module)[net.names[3]].size == 8


def test_keras2_files_say_so(made):
    net = read_network(made[0] / "lecture_keras2.h5")
    assert (net.summary["keras_version"], net.summary["backend"]) == ("2.15.0", "tensorflow")


def test_flatten_follows_keras_channel_last_order(made):
    folder, _, predictions = made
    net = read_network(folder / "lecture.h5")
    flatten = net.module[net.kinds.index("flatten")]
    assert isinstance(flatten, ChannelsLastFlatten)
    maps = torch.randn(2, 64, 5, 5)
    assert torch.equal(flatten(maps), maps.permute(0, 2, 3, 1).reshape(2, -1))
    # A channels-first flatten would feed the dense layer the wrong values.
    net.module[net.kinds.index("flatten")] = nn.Flatten()
    x, want = predictions["lecture"]
    assert np.abs(module_predict(net, x) - want).max() > 0.01


def test_reshape_follows_keras_channel_last_order():
    x = torch.randn(2, 4, 26, 26)
    nhwc = x.permute(0, 2, 3, 1).reshape(2, 13, 52, 4)
    assert torch.equal(Reshape((13, 52, 4), channels_last=True)(x), nhwc.permute(0, 3, 1, 2))
    assert torch.equal(Reshape((2704,), channels_last=True)(x), nhwc.reshape(2, -1))
    assert Reshape((28, 28), channels_last=True)(torch.randn(3, 784)).shape == (3, 1, 28, 28)


def test_batch_norm_takes_epsilon_center_and_scale_from_the_config(made):
    net = read_network(made[0] / "three_conv_bn.keras")
    norms = [m for m, kind in zip(net.module, net.kinds) if kind == "norm"]
    assert [m.eps for m in norms] == pytest.approx([0.01, 1e-3, 1e-3, 1e-3])
    assert torch.all(norms[0].bias == 0)  # center=False: no beta
    assert torch.all(norms[1].weight == 1)  # scale=False: no gamma
    assert isinstance(norms[3], nn.BatchNorm1d)


def test_rescaling_is_x_times_scale_plus_offset(made):
    net = read_network(made[0] / "rescale_reshape.keras")
    scale = net.module[0]
    assert isinstance(scale, Scale) and net.kinds[0] == "scale"
    x = torch.rand(2, 1, 28, 28) * 255
    assert torch.allclose(scale(x), x / 127.5 - 1.0, atol=1e-6)
    assert net.output == "log-probabilities"


def test_same_padding_with_stride_2_pads_the_bottom_right_more(made):
    net = read_network(made[0] / "same_stride2.h5")
    conv, conv4 = net.module[0], net.module[2]
    assert isinstance(conv, PaddedConv2d) and conv.pads == (0, 1, 0, 1)
    assert conv.padding == (0, 0)  # top/left, for the receptive fields
    assert isinstance(conv4, PaddedConv2d) and conv4.pads == (1, 2, 1, 2)
    assert net.summary["layers"][0]["output_shape"] == [8, 14, 14]
    fields = receptive_fields(net.module)
    assert fields[net.names[0]].offset == 0 and fields[net.names[2]].offset == -2
    leaky = net.module[3]
    assert (leaky.name_of_function, leaky.negative_slope) == ("leaky_relu", 0.1)
    assert net.module[1].name_of_function == "sigmoid"


def _tf_avg_pool_same(x: np.ndarray, k: int, s: int) -> np.ndarray:
    """TensorFlow's "same" average pool, written out: each window averages the input
    cells it covers, never the padding."""
    n = x.shape[-1]
    out = -(-n // s)
    top = max((out - 1) * s + k - n, 0) // 2
    y = np.zeros((*x.shape[:-2], out, out))
    for i in range(out):
        for j in range(out):
            r0, c0 = i * s - top, j * s - top
            window = x[..., max(r0, 0): r0 + k, max(c0, 0): c0 + k]
            y[..., i, j] = window.mean(axis=(-1, -2))
    return y


def test_average_pool_same_leaves_the_padding_out(made):
    """3×3 windows, stride 2 on 16×16: one row and column of padding at the bottom/right
    only, which torch's AvgPool2d cannot express. (Keras's own torch backend pads these
    by repeating the edge, so it disagrees with TensorFlow here: compared with numpy.)"""
    k = keras()
    model = k.Sequential([k.Input((16, 16, 1)), k.layers.AveragePooling2D(3, 2, "same"),
                          k.layers.Flatten()])
    model.save(made[0] / "avg_asymmetric.keras")
    pool = read_network(made[0] / "avg_asymmetric.keras").module[0]
    assert isinstance(pool, PaddedAvgPool2d) and pool.pads == (0, 1, 0, 1)
    x = torch.rand(2, 3, 16, 16)
    assert np.allclose(pool(x).numpy(), _tf_avg_pool_same(x.numpy(), 3, 2), atol=1e-6)
    even = avg_pool2d((3, 3), (1, 1), same_pads((16, 16), (3, 3), (1, 1)), False)
    assert np.allclose(even(x).numpy(), _tf_avg_pool_same(x.numpy(), 3, 1), atol=1e-6)


def test_output_kinds(made):
    folder = made[0]
    assert read_network(folder / "logits.h5").output == "logits"
    assert read_network(folder / "avg_same.keras").output == "probabilities"
    channelless = read_network(folder / "channelless.keras")
    assert channelless.input_shape == (1, 28, 28)
    assert channelless.kinds == ["flatten", "dense", "relu", "dense", "softmax"]
