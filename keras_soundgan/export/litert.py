"""LiteRT writer: conversion with builtin operators only, quantisation, and the edits
of the flatbuffer (subgraph order, embedded metadata, float32 Fourier matrices)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

from keras_soundgan.export.metadata import LITERT_METADATA_NAME
from keras_soundgan.export.signatures import Functions
from keras_soundgan.export.synthesis import SYNTHESIS_SCOPE
from keras_soundgan.internals import calibrate_only, mlir_quantize, tflite_schema

__all__ = ["write_litert", "litert_operators"]


def write_litert(functions: Functions, output: Path, quantize, noise, metadata) -> None:
    import tensorflow as tf

    concrete = [fn.get_concrete_function() for _, fn in functions.ordered]
    converter = tf.lite.TFLiteConverter.from_concrete_functions(concrete, functions.module)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantize == "dynamic-int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "int8":
        flatbuffer = _quantize_int8(converter, functions, noise)
    else:
        flatbuffer = converter.convert()
    float_matrices = float_reference = None
    if quantize == "dynamic-int8" and functions.synthesis is not None:
        float_matrices = functions.synthesis.matrices()
    if quantize == "float16" and functions.synthesis is not None:
        # The float16 pass stores every constant in half precision, the audio
        # inverse's too: its 1e-30 floors become 0 (NaN where a bin is silent), 2*pi
        # becomes 6.28 (the phase drifts). The float32 conversion gives them back.
        reference = tf.lite.TFLiteConverter.from_concrete_functions(concrete,
                                                                   functions.module)
        reference.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        float_reference = reference.convert()
    output.write_bytes(_finish_flatbuffer(flatbuffer, functions.ordered[0][0], metadata,
                                          float_matrices, float_reference))


def _finish_flatbuffer(flatbuffer: bytes, primary: str, metadata: dict,
                       float_matrices=None, float_reference: bytes | None = None) -> bytes:
    """Makes ``primary``'s subgraph the first one and embeds the metadata.

    The converter orders subgraphs by signature key; APIs without signatures (Swift's
    ``Interpreter``, ``Interpreter.run`` on Android) run subgraph 0, which should be
    the main entry point. The metadata JSON goes into the model's ``metadata`` table
    under the name ``keras_soundgan`` (read it with :func:`read_metadata`).

    ``float_matrices`` (dynamic-range models): the audio inverse's matrices, which
    the weight-only quantiser made int8 like every constant ``FULLY_CONNECTED`` weight;
    they are put back in float32 (a few hundred KB at most, and the Fourier transforms
    stay exact).

    ``float_reference`` (float16 models): the same functions converted in float32; the
    audio inverse's ops read their constants from it instead of from half-precision
    copies (:func:`_restore_float_constants`).
    """
    import flatbuffers

    schema = tflite_schema()

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(flatbuffer, 0))
    if float_reference is not None:  # before the subgraphs move: indices as converted
        _restore_float_constants(model, float_reference, SYNTHESIS_SCOPE)
    if len(model.signatureDefs) == 1:  # a lone function is named "serving_default"
        model.signatureDefs[0].signatureKey = primary.encode()
        model.subgraphs[model.signatureDefs[0].subgraphIndex].name = primary.encode()
    first = next(s.subgraphIndex for s in model.signatureDefs
                 if s.signatureKey.decode() == primary)
    if first:
        order = [first] + [i for i in range(len(model.subgraphs)) if i != first]
        moved = {old: new for new, old in enumerate(order)}
        model.subgraphs = [model.subgraphs[i] for i in order]
        for signature in model.signatureDefs:
            signature.subgraphIndex = moved[signature.subgraphIndex]
        for subgraph in model.subgraphs:
            for op in subgraph.operators or []:
                for options in (op.builtinOptions, getattr(op, "builtinOptions2", None)):
                    for field in _SUBGRAPH_FIELDS:
                        if options is not None and hasattr(options, field):
                            setattr(options, field, moved[getattr(options, field)])
    model.signatureDefs.sort(key=lambda s: s.subgraphIndex)
    if float_matrices:
        _restore_float_weights(model, float_matrices)
    text = json.dumps(metadata, separators=(",", ":")).encode("utf-8")
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(text, np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = LITERT_METADATA_NAME
    entry.buffer = len(model.buffers) - 1
    model.metadata = (model.metadata or []) + [entry]
    model.buffers = [_AlignedBuffer(b) for b in model.buffers]
    builder = flatbuffers.Builder(len(flatbuffer) + len(text) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _restore_float_weights(model, matrices) -> int:
    """Turns int8 ``FULLY_CONNECTED`` weights that dequantise to one of ``matrices``
    (``[out, in]`` float32 arrays) back into those float32 values. Returns how many
    buffers changed."""
    schema = tflite_schema()

    fully_connected = {i for i, code in enumerate(model.operatorCodes)
                       if max(code.builtinCode, code.deprecatedBuiltinCode)
                       == schema.BuiltinOperator.FULLY_CONNECTED}
    restored = {}
    for subgraph in model.subgraphs:
        for op in subgraph.operators or []:
            if op.opcodeIndex not in fully_connected or len(op.inputs) < 2:
                continue
            tensor = subgraph.tensors[op.inputs[1]]
            if tensor.type != schema.TensorType.INT8 or tensor.quantization is None:
                continue
            buffer = model.buffers[tensor.buffer]
            if buffer.data is None or not len(buffer.data):
                continue
            if tensor.buffer not in restored:
                values = _dequantize(np.asarray(buffer.data, np.uint8).view(np.int8),
                                     tuple(tensor.shape), tensor.quantization)
                match = next((m for m in matrices if m.shape == values.shape
                              and np.max(np.abs(m - values)) <= _dequantize_tolerance(
                                  tensor.quantization)), None)
                restored[tensor.buffer] = match
                if match is not None:
                    buffer.data = np.frombuffer(
                        np.ascontiguousarray(match, np.float32).tobytes(), np.uint8)
    # Every tensor reading a restored buffer (the loop bodies hold their own copies of
    # the matrices' tensors) is float32 now.
    changed = {index for index, match in restored.items() if match is not None}
    for subgraph in model.subgraphs:
        for tensor in subgraph.tensors or []:
            if tensor.buffer in changed:
                tensor.type = schema.TensorType.FLOAT32
                tensor.quantization = None
    return len(changed)


def _restore_float_constants(model, reference: bytes, scope: str) -> int:
    """Makes the ops of ``scope`` read float32 constants where the float16 pass gave
    them half-precision ones (a ``DEQUANTIZE`` of a float16 constant).

    The float32 value of each comes from ``reference``, the float32 conversion of the
    same functions: among the constants that ops of ``scope`` read there, the one of
    the same subgraph and shape whose float16 rounding is the half-precision value
    (by name where several differ, such as 1e-30 and 0). Each such input gets a new
    float32 tensor; ``DEQUANTIZE`` ops left without readers are removed. Returns how
    many inputs changed.
    """
    schema = tflite_schema()

    ref = schema.ModelT.InitFromObj(schema.Model.GetRootAs(reference, 0))
    if len(ref.subgraphs) != len(model.subgraphs):
        raise RuntimeError("the float32 reference has other subgraphs than the float16 model")
    dequantize = {i for i, code in enumerate(model.operatorCodes)
                  if max(code.builtinCode, code.deprecatedBuiltinCode)
                  == schema.BuiltinOperator.DEQUANTIZE}
    changed = 0
    float_buffers = {}  # float32 bytes -> buffer index (loop bodies share the tables)
    dropped = set()  # buffers of the float16 constants whose DEQUANTIZE went away
    for subgraph, ref_subgraph in zip(model.subgraphs, ref.subgraphs):
        candidates = {}  # (shape, float16 bytes) -> {name: float32 bytes}
        for op in ref_subgraph.operators or []:
            if op.outputs is None or not len(op.outputs):
                continue
            if scope.encode() not in ref_subgraph.tensors[op.outputs[0]].name:
                continue
            for i in op.inputs:
                tensor = ref_subgraph.tensors[i] if i >= 0 else None
                if tensor is None or tensor.type != schema.TensorType.FLOAT32:
                    continue
                data = ref.buffers[tensor.buffer].data
                if data is None or not len(data):
                    continue
                values = np.asarray(data, np.uint8).view(np.float32)
                key = (tuple(np.asarray(tensor.shape if tensor.shape is not None else [])),
                       values.astype(np.float16).tobytes())
                candidates.setdefault(key, {})[tensor.name] = np.asarray(data, np.uint8)
        producer = {}
        for op in subgraph.operators or []:
            for o in op.outputs if op.outputs is not None else []:
                producer[o] = op
        for op in subgraph.operators or []:
            if op.outputs is None or not len(op.outputs) or op.opcodeIndex in dequantize:
                continue
            if scope.encode() not in subgraph.tensors[op.outputs[0]].name:
                continue
            for position, index in enumerate(op.inputs):
                source = producer.get(index)
                if source is None or source.opcodeIndex not in dequantize:
                    continue
                half = subgraph.tensors[source.inputs[0]]
                data = model.buffers[half.buffer].data
                if half.type != schema.TensorType.FLOAT16 or data is None or not len(data):
                    continue
                key = (tuple(np.asarray(half.shape if half.shape is not None else [])),
                       np.asarray(data, np.uint8).tobytes())
                found = candidates.get(key, {})
                if len({v.tobytes() for v in found.values()}) > 1:
                    found = {half.name: found[half.name]} if half.name in found else {}
                if not found:
                    continue
                values = next(iter(found.values()))
                if values.tobytes() not in float_buffers:
                    buffer = schema.BufferT()
                    buffer.data = values
                    model.buffers.append(buffer)
                    float_buffers[values.tobytes()] = len(model.buffers) - 1
                tensor = schema.TensorT()
                tensor.shape, tensor.type = half.shape, schema.TensorType.FLOAT32
                tensor.name = half.name + b"/float32"
                tensor.buffer = float_buffers[values.tobytes()]
                subgraph.tensors.append(tensor)
                inputs = list(op.inputs)  # the object API's arrays are read-only
                inputs[position] = len(subgraph.tensors) - 1
                op.inputs = inputs
                changed += 1
        # DEQUANTIZE ops whose outputs nobody reads any more.
        read = {i for op in subgraph.operators or [] for i in op.inputs}
        read |= set(subgraph.outputs)
        kept = []
        for op in subgraph.operators or []:
            if op.opcodeIndex not in dequantize or any(o in read for o in op.outputs):
                kept.append(op)
            else:
                dropped.add(subgraph.tensors[op.inputs[0]].buffer)
        subgraph.operators = kept
    # The half-precision copies nothing reads any more leave the file.
    live = {subgraph.tensors[i].buffer for subgraph in model.subgraphs
            for op in subgraph.operators or [] for i in op.inputs if i >= 0}
    for index in dropped - live:
        model.buffers[index].data = None
    return changed


def _dequantize(values, shape, quantization) -> np.ndarray:
    values = values.reshape(shape).astype(np.float32)
    scale = np.asarray(quantization.scale, np.float32)
    zero = np.asarray(quantization.zeroPoint if quantization.zeroPoint is not None else [0],
                      np.float32)
    if scale.size > 1:
        axis = quantization.quantizedDimension
        view = [1] * len(shape)
        view[axis] = -1
        scale, zero = scale.reshape(view), zero.reshape(view)
    return (values - zero) * scale


def _dequantize_tolerance(quantization) -> float:
    return float(np.max(np.asarray(quantization.scale))) * 0.5 + 1e-6


#: Builtin-option fields that hold a subgraph index (control flow, calls, composites).
_SUBGRAPH_FIELDS = ("condSubgraphIndex", "bodySubgraphIndex", "thenSubgraphIndex",
                    "elseSubgraphIndex", "initSubgraphIndex", "subgraph",
                    "decompositionSubgraphIndex")


class _AlignedBuffer:
    """Packs a ``BufferT`` with its bytes 16-byte aligned, as the converter writes them."""

    def __init__(self, buffer):
        self.buffer = buffer

    def Pack(self, builder):  # noqa: N802 (flatbuffers' name)
        schema = tflite_schema()

        data = self.buffer.data
        offset = None
        if data is not None and len(data):
            array = np.ascontiguousarray(np.asarray(data, dtype=np.uint8))
            builder.StartVector(1, array.size, 16)
            builder.head = builder.head - array.size
            builder.Bytes[builder.head:builder.head + array.size] = array.tobytes()
            builder.vectorNumElems = array.size
            offset = builder.EndVector()
        schema.BufferStart(builder)
        if offset is not None:
            schema.BufferAddData(builder, offset)
        if getattr(self.buffer, "offset", 0):
            schema.BufferAddOffset(builder, self.buffer.offset)
            schema.BufferAddSize(builder, self.buffer.size)
        return schema.BufferEnd(builder)


def _quantize_int8(converter, functions: Functions, noise: np.ndarray) -> bytes:
    """Full-integer quantisation of the generator; the audio inverse stays float32.

    Calibrates on ``noise`` (one sample at a time, through every signature; a
    conditional model's labels in turn, see :meth:`Functions.sample_inputs`), then
    quantises with the ops of the ``synthesis`` scope denylisted: int8 has no room for
    a log-magnitude's range or a unit-modulus phase.
    """
    import tensorflow as tf

    keys = [key for key, _ in functions.ordered]

    def representative():
        for sample in functions.sample_inputs(noise):
            if len(keys) == 1:  # a lone signature is keyed "serving_default" until the end
                yield sample
            else:
                for key in keys:
                    yield key, sample

    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    calibrate_only(converter)
    with warnings.catch_warnings():  # the calibrator still uses tf.lite.Interpreter
        warnings.simplefilter("ignore", UserWarning)
        calibrated = converter.convert()
    # The waveform's outputs stay float32 too; a lone signature is still keyed
    # "serving_default" in the calibrated model.
    waveform = ("waveform" if len(keys) > 1 else "serving_default") if "waveform" in keys else None
    denylist = sorted(_float_tensor_names(calibrated, SYNTHESIS_SCOPE, waveform))
    # The denylist keeps those ops float32, but the quantiser still put QUANTIZE /
    # DEQUANTIZE pairs on some of their tensors (the locked phase's log magnitude:
    # 8 bits of it), wherever it had calibration statistics for them (TensorFlow
    # 2.21). Without statistics there is nothing to quantise them with.
    calibrated = _drop_statistics(calibrated, set(denylist))
    return mlir_quantize(calibrated, denylisted_nodes=denylist or None)


def _drop_statistics(flatbuffer: bytes, names: set) -> bytes:
    """The calibrated model with the statistics of the tensors ``names`` removed."""
    import flatbuffers

    schema = tflite_schema()

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(flatbuffer, 0))
    for subgraph in model.subgraphs:
        for tensor in subgraph.tensors or []:
            if tensor.name.decode("utf-8", "replace") in names:
                tensor.quantization = None
    model.buffers = [_AlignedBuffer(b) for b in model.buffers]
    builder = flatbuffers.Builder(len(flatbuffer) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _float_tensor_names(flatbuffer: bytes, scope: str, signature: str) -> set:
    """Tensors to keep in float32: those of ``scope`` in any subgraph, and the outputs
    of ``signature`` (the last op of the audio inverse writes a tensor named after the
    signature's output, not after its scope)."""
    schema = tflite_schema()

    model = schema.Model.GetRootAsModel(flatbuffer, 0)
    names = set()
    for g in range(model.SubgraphsLength()):
        subgraph = model.Subgraphs(g)
        for t in range(subgraph.TensorsLength()):
            name = subgraph.Tensors(t).Name().decode("utf-8", "replace")
            if scope in name:
                names.add(name)
    for s in range(model.SignatureDefsLength()):
        definition = model.SignatureDefs(s)
        if signature is None or definition.SignatureKey().decode() != signature:
            continue
        subgraph = model.Subgraphs(definition.SubgraphIndex())
        for o in range(definition.OutputsLength()):
            tensor = subgraph.Tensors(definition.Outputs(o).TensorIndex())
            names.add(tensor.Name().decode("utf-8", "replace"))
    return names



def litert_operators(path) -> dict:
    """``{operator name: count}`` over every subgraph of a ``.tflite`` file (builtin
    names such as ``FULLY_CONNECTED``; ``CUSTOM:<name>`` for custom and Flex ops)."""
    schema = tflite_schema()

    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    model = schema.Model.GetRootAs(Path(path).read_bytes(), 0)
    codes = [model.OperatorCodes(i) for i in range(model.OperatorCodesLength())]
    counts: dict = {}
    for g in range(model.SubgraphsLength()):
        subgraph = model.Subgraphs(g)
        for o in range(subgraph.OperatorsLength()):
            code = codes[subgraph.Operators(o).OpcodeIndex()]
            builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
            name = (f"CUSTOM:{code.CustomCode().decode()}"
                    if builtin == schema.BuiltinOperator.CUSTOM else names[builtin])
            counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))
