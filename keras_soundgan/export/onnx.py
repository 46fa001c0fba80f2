"""ONNX writer: tf2onnx on the traced function, inputs and outputs named as the
signature's, the metadata in ``metadata_props``."""

from __future__ import annotations

import json
import os
from pathlib import Path

from keras_soundgan.export.signatures import Functions
from keras_soundgan.internals import patch_tf2onnx

__all__ = ["ONNX_OPSET", "write_onnx"]

#: ONNX opset (onnxruntime 1.17+ runs it; Loop, Gather, MatMul need nothing newer).
ONNX_OPSET = 17


def write_onnx(functions: Functions, output: Path, metadata: dict) -> None:
    try:
        import onnx
        import tf2onnx
    except ImportError as e:
        raise RuntimeError(
            f"ONNX export needs tf2onnx and onnx ({e}); pip install 'keras-soundgan[export]'"
        ) from None
    patch_tf2onnx()  # tf2onnx still uses NumPy 1 aliases
    key, fn = functions.ordered[0]
    concrete = fn.get_concrete_function()
    model_proto, _ = tf2onnx.convert.from_function(fn, input_signature=functions.input_specs,
                                                   opset=ONNX_OPSET)
    # tf2onnx names the graph's ends after TensorFlow tensors ("z:0", "label:0",
    # "Identity_1:0"); give them the signature's names, through Identity nodes for the
    # outputs (an output may also feed other nodes).
    graph = model_proto.graph
    for graph_input in graph.input:
        wanted_name = graph_input.name.split(":")[0]
        if graph_input.name != wanted_name:
            old_name = graph_input.name
            graph_input.name = wanted_name
            for node in graph.node:
                node.input[:] = [wanted_name if name == old_name else name
                                 for name in node.input]
    wanted = {tensor.name: name for name, tensor in concrete.structured_outputs.items()}
    for graph_output in graph.output:
        name = wanted.get(graph_output.name)
        if name is None or name == graph_output.name:
            continue
        graph.node.append(onnx.helper.make_node("Identity", [graph_output.name], [name],
                                                name=f"{name}_output"))
        graph_output.name = name
    for value in list(graph.input) + list(graph.output):
        dims = value.type.tensor_type.shape.dim
        if len(dims) and not dims[0].HasField("dim_value"):
            dims[0].dim_param = "batch"
    onnx.helper.set_model_props(model_proto, {
        "keras_soundgan": json.dumps(metadata, separators=(",", ":")),
        "sample_rate": str(metadata["sample_rate"]),
        "latent_dim": str(metadata["latent_dim"]),
        "latent_distribution": metadata["latent_distribution"],
        "slice_length": str(metadata["slice_length"]),
        "num_classes": str(metadata["num_classes"]),
        "class_names": json.dumps(metadata["class_names"]),
        "signature": key,
    })
    onnx.save(model_proto, os.fspath(output))
