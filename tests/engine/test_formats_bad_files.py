"""Bad network files are refused with one line naming the file and the reason.

Each file starts as a real one (Keras, h5py, torch.onnx.export) and is then broken:
truncated, renamed, emptied of a weight, given NaN, grown to 2 GB, nested 10,000 deep,
zip-bombed, given code or a path out of its folder. Every refusal must be a
ModelFileError of one line; no warning or library message may be printed, nothing
written beside the file, and nothing from the file run.
"""

from __future__ import annotations

import json
import shutil
import warnings
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from foreign_nets import export_onnx, keras, pytorch_mnist_net, write_keras2_h5

from engine import load_model
from engine.errors import ModelFileError
from engine.formats import MAX_FILE_BYTES, hdf5_check, read_network

onnx = pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """Small real files: Keras 3 .keras and .h5, a Keras-2-layout .h5, ONNX."""
    k = keras()
    L = k.layers
    folder = tmp_path_factory.mktemp("good")
    model = k.Sequential([k.Input((28, 28, 1)), L.Conv2D(4, 3, activation="relu", name="conv"),
                          L.MaxPooling2D(), L.Flatten(), L.Dropout(0.2),
                          L.Dense(10, activation="softmax", name="out")], name="net")
    model.save(folder / "net.keras")
    model.save(folder / "net.h5")
    write_keras2_h5(folder / "keras2.h5", model)
    export_onnx(pytorch_mnist_net(), folder / "net.onnx")
    (folder / "external").mkdir()
    export_onnx(pytorch_mnist_net(), folder / "external" / "net.onnx", external=True)
    return folder


def copy(good: Path, name: str, to: Path, as_name: str | None = None) -> Path:
    target = to / (as_name or Path(name).name)
    shutil.copy(good / name, target)
    return target


def refused(path: Path, capfd, *words: str) -> str:
    """Read ``path``, expecting a one-line ModelFileError naming it and holding ``words``;
    nothing printed, no warning, the folder's listing unchanged."""
    before = sorted((p.name, p.stat().st_size) for p in path.parent.iterdir())
    capfd.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ModelFileError) as info:
            read_network(path)
    out, err = capfd.readouterr()
    message = str(info.value)
    assert (out, err, [str(w.message) for w in caught]) == ("", "", [])
    assert "\n" not in message and "\r" not in message
    assert message.startswith(f"{path}: ")
    assert sorted((p.name, p.stat().st_size) for p in path.parent.iterdir()) == before
    for word in words:
        assert word.lower() in message.lower(), message
    return message


@pytest.mark.parametrize("name", ["net.keras", "net.h5", "keras2.h5", "net.onnx"])
@pytest.mark.parametrize("keep", [0.5, 0.9, 0.01])
def test_a_truncated_file(good, tmp_path, capfd, name, keep):
    path = copy(good, name, tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    refused(path, capfd)


@pytest.mark.parametrize("source, as_name, words", [
    ("net.h5", "net.keras", ["HDF5", "rename it to .h5"]),
    ("net.keras", "net.h5", ["zip", "rename it to .keras"]),
    ("net.onnx", "net.h5", ["not an HDF5 file"]),
    ("net.h5", "net.onnx", ["HDF5"]),
    ("net.keras", "net.onnx", ["zip"]),
])
def test_a_file_that_is_not_what_its_suffix_says(good, tmp_path, capfd, source, as_name, words):
    refused(copy(good, source, tmp_path, as_name), capfd, *words)


@pytest.mark.parametrize("as_name", ["x.keras", "x.h5", "x.onnx", "x.hdf5"])
@pytest.mark.parametrize("content", [b"", b"hello, I am text\n" * 40,
                                     b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8])
def test_text_and_pictures_are_not_networks(tmp_path, capfd, as_name, content):
    path = tmp_path / as_name
    path.write_bytes(content)
    refused(path, capfd)


def test_missing_files_folders_and_suffixes(tmp_path, capfd):
    refused(tmp_path / "absent.onnx", capfd, "no such file")
    (tmp_path / "folder.keras").mkdir()
    refused(tmp_path / "folder.keras", capfd, "folder")
    (tmp_path / "net.pt").write_bytes(b"x")
    refused(tmp_path / "net.pt", capfd, ".keras, .h5, .hdf5, .onnx")


@pytest.mark.parametrize("name, dataset", [
    ("keras2.h5", "model_weights/conv/conv/kernel:0"),
    ("net.h5", "model_weights/out/net/out/bias"),
])
def test_an_hdf5_file_with_missing_weights(good, tmp_path, capfd, name, dataset):
    path = copy(good, name, tmp_path)
    with h5py.File(path, "a") as f:
        del f[dataset]
    refused(path, capfd, "missing")


def test_a_keras_archive_with_missing_weights(good, tmp_path, capfd):
    weights = tmp_path / "w.h5"
    with zipfile.ZipFile(good / "net.keras") as z:
        weights.write_bytes(z.read("model.weights.h5"))
    with h5py.File(weights, "a") as f:
        del f["layers/conv2d/vars/1"]
    path = rewrite(good / "net.keras", tmp_path / "net.keras",
                   {"model.weights.h5": weights.read_bytes()})
    weights.unlink()
    refused(path, capfd, "'conv'", "1 weight array(s)", "kernel, bias")


def _edit_h5(path: Path, edit) -> None:
    with h5py.File(path, "a") as f:
        edit(f)


def test_weights_whose_shape_the_config_does_not_match(good, tmp_path, capfd):
    path = copy(good, "keras2.h5", tmp_path)

    def more_filters(f):
        config = json.loads(f.attrs["model_config"])
        config["config"]["layers"][1]["config"]["filters"] = 6
        f.attrs["model_config"] = json.dumps(config).encode()

    _edit_h5(path, more_filters)
    refused(path, capfd, "'conv'", "(3, 3, 1, 4)", "(3, 3, 1, 6)")


@pytest.mark.parametrize("value, words", [(np.nan, ["NaN"]), (np.inf, ["infinite"]),
                                          (1e5, ["1e+05", "corrupt"])])
def test_nan_and_absurd_weights(good, tmp_path, capfd, value, words):
    path = copy(good, "net.h5", tmp_path)

    def spoil(f):
        f["model_weights/conv/net/conv/kernel"][0, 0, 0, 0] = value

    _edit_h5(path, spoil)
    refused(path, capfd, "'conv'", *words)


@pytest.mark.parametrize("name", ["big.keras", "big.h5", "big.onnx"])
def test_a_2_gb_file_is_refused_by_its_size(tmp_path, capfd, name):
    path = tmp_path / name
    with open(path, "wb") as f:
        f.truncate(2 * 2**30)  # sparse: no disk used, and never read
    refused(path, capfd, "2,048 MB", f"{MAX_FILE_BYTES // 2**20} MB")


DEEP = 10_000


def test_a_config_nested_10000_deep(good, tmp_path, capfd):
    path = copy(good, "keras2.h5", tmp_path)
    _edit_h5(path, lambda f: f.attrs.__setitem__("model_config", "[" * DEEP + "]" * DEEP))
    refused(path, capfd, "nested too deeply")
    config = '{"class_name": "Sequential", "config": ' + '{"a": ' * DEEP + "1" + "}" * DEEP
    path = rewrite(good / "net.keras", tmp_path / "deep.keras", {"config.json": config + "}"})
    refused(path, capfd, "nested too deeply")


def _field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field."""
    def varint(n: int) -> bytes:
        out = b""
        while n >= 0x80:
            out += bytes([n & 0x7F | 0x80])
            n >>= 7
        return out + bytes([n])

    return varint(number << 3 | 2) + varint(len(payload)) + payload


def test_an_onnx_graph_nested_10000_deep(tmp_path, capfd):
    graph = b""
    for _ in range(DEEP):  # graph.node[0].attribute[0].g = graph, 10,000 times over
        graph = _field(1, _field(5, _field(6, graph)))
    path = tmp_path / "deep.onnx"
    path.write_bytes(b"\x08\x08" + _field(7, graph))
    refused(path, capfd)


def rewrite(source: Path, target: Path, members: dict[str, bytes | str],
            compress: set[str] = frozenset()) -> Path:
    """``source`` archive copied to ``target`` with ``members`` replaced or added."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        names = [*src.namelist(), *(n for n in members if n not in src.namelist())]
        for name in names:
            data = members.get(name, src.read(name) if name in src.namelist() else b"")
            method = zipfile.ZIP_DEFLATED if name in compress else zipfile.ZIP_STORED
            dst.writestr(name, data, compress_type=method)
    return target


def test_a_zip_bomb_in_a_keras_archive(good, tmp_path, capfd):
    with zipfile.ZipFile(good / "net.keras") as z:
        config = z.read("config.json")
    padded = config + b" " * (4 * 2**20)  # valid JSON, inflating 1000:1
    path = rewrite(good / "net.keras", tmp_path / "bomb.keras", {"config.json": padded},
                   compress={"config.json"})
    refused(path, capfd, "zip bomb", "100:1")
    noise = np.random.default_rng(0).bytes(17 * 2**20)  # incompressible, over 16 MB
    path = rewrite(good / "net.keras", tmp_path / "big.keras", {"assets/noise": noise},
                   compress={"assets/noise"})
    refused(path, capfd, "16 MB")
    # Stored (not compressed), a member over 16 MB is refused all the same.
    path = rewrite(good / "net.keras", tmp_path / "stored.keras", {"assets/noise": noise})
    refused(path, capfd, "is 17 MB", "16 MB")


def test_a_lambda_layer_is_refused_and_never_run(tmp_path, capfd):
    k = keras()
    ran = tmp_path / "ran"

    def mark(x):
        ran.touch()  # would show that code from the file was run
        return x

    model = k.Sequential([k.Input((28, 28, 1)), k.layers.Lambda(lambda x: mark(x) * 2.0),
                          k.layers.Flatten(), k.layers.Dense(10)])
    folder = tmp_path / "files"
    folder.mkdir()
    model.save(folder / "lambda.keras")
    model.save(folder / "lambda.h5")
    ran.unlink()
    refused(folder / "lambda.keras", capfd, "Lambda", "never runs code")
    refused(folder / "lambda.h5", capfd, "Lambda", "never runs code")
    assert not ran.exists()


def test_custom_layers_and_activations_are_refused(tmp_path, capfd):
    k = keras()

    @k.saving.register_keras_serializable(package="Mine")
    class Doubler(k.layers.Layer):
        def call(self, x):
            return 2 * x

    @k.saving.register_keras_serializable(package="Mine")
    def twice(x):
        return 2 * x

    layers = [k.Input((28, 28, 1)), k.layers.Flatten()]
    custom = k.Sequential([*layers, Doubler(), k.layers.Dense(10)])
    custom.save(tmp_path / "custom.keras")
    refused(tmp_path / "custom.keras", capfd, "custom layer", "Mine>Doubler", "never runs code")
    activation = k.Sequential([*layers, k.layers.Dense(10, activation=twice)])
    activation.save(tmp_path / "activation.keras")
    refused(tmp_path / "activation.keras", capfd, "custom activation", "Mine>twice",
            "never runs code")


def test_a_custom_layer_dressed_as_conv2d_is_refused(good, tmp_path, capfd):
    with zipfile.ZipFile(good / "net.keras") as z:
        config = json.loads(z.read("config.json"))
    conv = config["config"]["layers"][1]
    conv["module"], conv["config"]["name"] = "evil.layers", "evil\nconv"
    path = rewrite(good / "net.keras", tmp_path / "net.keras", {"config.json": json.dumps(config)})
    refused(path, capfd, "custom layer", "evil.layers")


def test_unsupported_layers_are_named(tmp_path, capfd):
    k = keras()
    L = k.layers
    model = k.Sequential([k.Input((28, 28, 1)), L.ZeroPadding2D(2), L.Flatten(), L.Dense(10)])
    model.save(tmp_path / "pad.h5")
    refused(tmp_path / "pad.h5", capfd, "ZeroPadding2D", "cannot show")
    inp = k.Input((28, 28, 1))
    x = L.Conv2D(1, 3, padding="same")(inp)
    branch = k.Model(inp, L.Dense(10)(L.Flatten()(L.Add()([inp, x]))))
    branch.save(tmp_path / "branch.keras")
    refused(tmp_path / "branch.keras", capfd, "'Add'")


def _tiny_graph(tmp_path: Path, nodes, initializers=(), channels: int = 1) -> Path:
    h = onnx.helper
    graph = h.make_graph(
        nodes, "tiny",
        [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["n", channels, 28, 28])],
        [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)], list(initializers))
    path = tmp_path / "tiny.onnx"
    onnx.save_model(h.make_model(graph, opset_imports=[h.make_opsetid("", 17)]), str(path))
    return path


def test_unsupported_operators_and_branches_are_named(tmp_path, capfd):
    h = onnx.helper
    swap = h.make_node("Transpose", ["x"], ["y"], "swap", perm=[0, 1, 3, 2])
    path = _tiny_graph(tmp_path, [swap])
    refused(path, capfd, "'Transpose'", "cannot show")
    path = _tiny_graph(tmp_path, [h.make_node("Relu", ["x"], ["r"]),
                                  h.make_node("Add", ["r", "x"], ["y"], "skip")])
    refused(path, capfd, "'skip'", "not a single chain")


def test_three_channel_networks_are_refused(tmp_path, capfd):
    k = keras()
    model = k.Sequential([k.Input((28, 28, 3)), k.layers.Flatten(), k.layers.Dense(10)])
    model.save(tmp_path / "colour.keras")
    refused(tmp_path / "colour.keras", capfd, "3-channel")
    path = _tiny_graph(tmp_path, [onnx.helper.make_node("Flatten", ["x"], ["y"])], channels=3)
    refused(path, capfd, "3-channel")


@pytest.mark.parametrize("location", ["../secret.bin", "/etc/hostname", "sub/net.onnx.data",
                                      "..", "C:net.onnx.data", ""])
def test_external_data_only_from_beside_the_model(good, tmp_path, capfd, location):
    folder = tmp_path / "model"
    shutil.copytree(good / "external", folder)
    (tmp_path / "secret.bin").write_bytes((folder / "net.onnx.data").read_bytes())
    (folder / "sub").mkdir()
    shutil.copy(folder / "net.onnx.data", folder / "sub" / "net.onnx.data")
    model = onnx.load(str(folder / "net.onnx"), load_external_data=False)
    for tensor in model.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = location
    onnx.save_model(model, str(folder / "net.onnx"))
    refused(folder / "net.onnx", capfd, "plain file name")


def test_external_data_linked_from_outside_the_folder_is_refused(good, tmp_path, capfd):
    """A plain name beside the model that is a link out of its folder is a path all the
    same; a link within the folder is fine."""
    folder = tmp_path / "model"
    shutil.copytree(good / "external", folder)
    data = folder / "net.onnx.data"
    outside = tmp_path / "elsewhere.bin"
    data.rename(outside)
    data.symlink_to(outside)
    refused(folder / "net.onnx", capfd, "outside the model's folder")
    data.unlink()
    shutil.copy(outside, folder / "real.bin")
    data.symlink_to("real.bin")
    assert load_model(folder / "net.onnx", device="cpu").classes


def test_external_data_that_is_missing_or_short(good, tmp_path, capfd):
    folder = tmp_path / "model"
    shutil.copytree(good / "external", folder)
    data = folder / "net.onnx.data"
    data.write_bytes(data.read_bytes()[:1000])
    refused(folder / "net.onnx", capfd, "shorter than the model says")
    data.unlink()
    refused(folder / "net.onnx", capfd, "not beside the model")


def test_hdf5_links_to_other_files_are_not_followed(good, tmp_path, capfd):
    path = copy(good, "keras2.h5", tmp_path)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.create_dataset("kernel", data=np.zeros((3, 3, 1, 4), np.float32))

    def link_out(f):
        del f["model_weights/conv/conv/kernel:0"]
        f["model_weights/conv/conv/kernel:0"] = h5py.ExternalLink(str(other), "kernel")

    _edit_h5(path, link_out)
    refused(path, capfd, "link")
    raw = tmp_path / "raw.bin"
    raw.write_bytes(np.zeros(36, np.float32).tobytes())

    def store_out(f):
        del f["model_weights/conv/conv/kernel:0"]
        f.create_dataset("model_weights/conv/conv/kernel:0", (3, 3, 1, 4), np.float32,
                         external=[(str(raw), 0, 144)])

    path = copy(good, "keras2.h5", tmp_path, "stored.h5")
    _edit_h5(path, store_out)
    refused(path, capfd, "another file")


def test_a_file_that_crashes_the_hdf5_library_does_not_crash_convpad(good, tmp_path, capfd):
    """A variable-length string attribute whose type bits are corrupt makes the HDF5
    library (2.0) die with a segmentation fault: the child that reads the file first
    dies, and the file is refused."""
    with zipfile.ZipFile(good / "net.keras") as z:
        weights = bytearray(z.read("model.weights.h5"))
    at = weights.find(b"name\x00\x00\x00\x00\x19\x01")  # the vars groups' "name" attribute
    assert at > 0
    weights[at + 9] = 0xA3
    path = rewrite(good / "net.keras", tmp_path / "net.keras",
                   {"model.weights.h5": bytes(weights)})
    refused(path, capfd, "damaged")


def test_a_file_the_hdf5_library_hangs_on_is_refused(good, tmp_path, capfd, monkeypatch):
    """Some corrupt global heaps make the HDF5 library spin forever; the child reading
    the file first is stopped after its time (here none at all)."""
    monkeypatch.setattr(hdf5_check, "BASE_TIMEOUT_S", 0.0)
    monkeypatch.setattr(hdf5_check, "BYTES_PER_S", 1e15)
    monkeypatch.setattr(hdf5_check, "_READ_WELL", set())
    refused(copy(good, "net.h5", tmp_path), capfd, "damaged", "still reading")
