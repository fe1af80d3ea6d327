"""A Keras model config → its layers in data-flow order, and its input shape.

Sequential models are their layer list; functional models must be a single chain from
one input to one output (each layer called once, on the layer before it). Every layer
is checked against the table of built-in layers ConvPad rebuilds *before* anything is
built: a Lambda layer, a custom layer or a nested model is refused by name, and its
config is never interpreted, let alone run. Handles the config layouts of Keras 2
(``inbound_nodes`` as nested lists, ``batch_input_shape``) and Keras 3
(``__keras_tensor__`` args, ``batch_shape``).
"""

from __future__ import annotations

from typing import Any

from engine.formats.keras_layers import CONVERTERS, LEFT_OUT, KerasLayer
from engine.formats.network import Refused, shown

LAMBDAS = {"Lambda", "TFOpLambda", "SlicingOpLambda"}
MODELS = {"Sequential", "Functional", "Model"}


def chain_of_layers(config: Any) -> tuple[list[KerasLayer], list[KerasLayer], str]:
    """The model's layers in data-flow order, in Keras's own list order (where a
    ``.keras`` archive's weight paths come from) and the model's kind."""
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise Refused("its model config is not a Keras model (no class_name)")
    cls = config["class_name"]
    if cls not in MODELS or config.get("registered_name") not in (None, cls, "Functional"):
        raise Refused(f"holds a {shown(config.get('registered_name') or cls)} model, not a "
                      "Sequential or Functional one; a subclassed model is Python code, "
                      "which ConvPad never runs")
    inner = config.get("config")
    if cls == "Sequential":
        entries = inner if isinstance(inner, list) else _get(inner, "layers", list)
        layers = [_layer(entry) for entry in entries]
        container = [layer for layer in layers if layer.class_name != "InputLayer"]
        return layers, container, "Sequential"
    entries = _get(inner, "layers", list)
    layers = [_layer(entry) for entry in entries]
    return _chain(inner, entries, layers), layers, "Functional"


def input_shape_of(config: dict[str, Any], layers: list[KerasLayer]) -> tuple[Any, ...]:
    """The per-sample input shape (no batch axis), from wherever this Keras wrote it."""
    inner = config.get("config")
    candidates: list[Any] = []
    if layers:
        first = layers[0].config
        candidates += [first.get("batch_shape"), first.get("batch_input_shape")]
    if isinstance(inner, dict):
        candidates.append(inner.get("build_input_shape"))
    if layers:
        build = layers[0].config.get("build_config")
        candidates.append(build.get("input_shape") if isinstance(build, dict) else None)
    for shape in candidates:
        if isinstance(shape, list) and len(shape) >= 2 and all(
                n is None or isinstance(n, int) for n in shape):
            return tuple(shape[1:])
    raise Refused("does not say its input size (no InputLayer or batch_input_shape)")


def _get(d: Any, key: str, kind: type) -> Any:
    value = d.get(key) if isinstance(d, dict) else None
    if not isinstance(value, kind):
        raise Refused(f"its model config has no {key} {kind.__name__}")
    return value


def _layer(entry: Any) -> KerasLayer:
    """One layer entry, refused unless it is a built-in layer ConvPad rebuilds."""
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str) \
            or not isinstance(entry.get("config"), dict):
        raise Refused("its model config holds a layer without class_name and config")
    cls, cfg = entry["class_name"], entry["config"]
    name = cfg.get("name", entry.get("name", cls))
    module = entry.get("module")
    registered = entry.get("registered_name")
    if cls in LAMBDAS:
        raise Refused(f"layer {shown(name)} is a {cls} layer: it holds Python code, and "
                      "ConvPad never runs code from a file")
    if (module is not None and not str(module).startswith(("keras.", "tf_keras."))) or \
            registered not in (None, cls):
        raise Refused(f"layer {shown(name)} is a custom layer ({shown(registered or cls)}"
                      f"{f' from {shown(module)}' if module else ''}): ConvPad never runs "
                      "code from a file; rebuild it from built-in Keras layers")
    if cls in MODELS:
        raise Refused(f"layer {shown(name)} is a nested model; ConvPad reads flat models: "
                      "put its layers in the outer model")
    if cls not in CONVERTERS and cls not in LEFT_OUT and cls != "InputLayer":
        raise Refused(f"layer {shown(name)} ({shown(cls)}) is a kind of layer ConvPad cannot "
                      f"show; it reads {', '.join(sorted(CONVERTERS))}, InputLayer and Dropout")
    return KerasLayer(str(name), cls, cfg)


def _refs(value: Any, what: str) -> list[str]:
    """Layer names from ``input_layers``/``output_layers`` ([name, 0, 0] or a list of them)."""
    if isinstance(value, list) and value and isinstance(value[0], str):
        value = [value]
    if not isinstance(value, list) or not all(
            isinstance(v, list) and v and isinstance(v[0], str) for v in value):
        raise Refused(f"its model config has malformed {what}")
    return [v[0] for v in value]


def _inbound(entry: dict[str, Any], name: str) -> list[str]:
    """The names of the layers feeding layer ``name`` (Keras 2 or Keras 3 layout)."""
    nodes = entry.get("inbound_nodes") or []
    if not isinstance(nodes, list) or len(nodes) > 1:
        raise Refused(f"layer {shown(name)} is used more than once (a shared layer); "
                      "ConvPad reads networks that are a single chain")
    if not nodes:
        return []
    node = nodes[0]
    names: list[str] = []
    if isinstance(node, dict):  # Keras 3: {"args": [tensor or [tensors]], "kwargs": …}
        for arg in node.get("args") or []:
            for t in arg if isinstance(arg, list) else [arg]:
                if isinstance(t, dict) and t.get("class_name") == "__keras_tensor__":
                    names.append(str(t["config"]["keras_history"][0]))
    elif isinstance(node, list):  # Keras 2: [[name, node index, tensor index, kwargs], …]
        names = [str(ref[0]) for ref in node if isinstance(ref, list) and ref]
    return names


def _chain(inner: dict[str, Any], entries: list[dict[str, Any]],
           layers: list[KerasLayer]) -> list[KerasLayer]:
    """A functional model's layers from input to output, if they form one chain."""
    by_name: dict[str, tuple[dict[str, Any], KerasLayer]] = {}
    for entry, layer in zip(entries, layers):
        key = str(entry.get("name", layer.name))
        if key in by_name:
            raise Refused(f"two layers are called {shown(key)}")
        by_name[key] = (entry, layer)
    inputs = _refs(inner.get("input_layers"), "input_layers")
    outputs = _refs(inner.get("output_layers"), "output_layers")
    if len(inputs) != 1 or len(outputs) != 1:
        raise Refused(f"the model has {len(inputs)} inputs and {len(outputs)} outputs; "
                      "ConvPad reads networks with one of each")
    chain: list[str] = []
    seen: set[str] = set()
    current = outputs[0]
    while True:
        if current not in by_name or current in seen:
            raise Refused(f"layer {shown(current)} is missing or part of a loop")
        chain.append(current)
        seen.add(current)
        if current == inputs[0]:
            break
        feeding = _inbound(by_name[current][0], current)
        if len(feeding) != 1:
            raise Refused(f"layer {shown(current)} takes {len(feeding)} inputs; ConvPad reads "
                          "networks that are a single chain")
        current = feeding[0]
    if len(chain) != len(layers):
        off = [key for key in by_name if key not in seen]
        raise Refused(f"the network is not a single chain: layer {shown(off[0])} is off the "
                      "path from input to output")
    return [by_name[name][1] for name in reversed(chain)]
