"""Every reach into private Keras and TensorFlow (keras_soundgan/internals.py) still
exists and behaves as the package relies on; none is made anywhere else; and every
module says what it makes public (``__all__``).

An upgrade of Keras or TensorFlow that moves one of the reaches fails a test here
first, naming it; the fix goes into internals.py.
"""

import ast
import importlib
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import ops

import keras_soundgan
from keras_soundgan import internals

PACKAGE = Path(keras_soundgan.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


# -- keras.StatelessScope (models/jax_step.py) -----------------------------------------


def test_get_stateless_scope_is_the_innermost_scope_entered():
    assert internals.get_stateless_scope() is None
    with keras.StatelessScope() as outer:
        assert internals.get_stateless_scope() is outer
        with keras.StatelessScope() as inner:
            assert internals.get_stateless_scope() is inner
        assert internals.get_stateless_scope() is outer
    assert internals.get_stateless_scope() is None


def test_stateless_scope_values_are_the_scope_own_mapping_by_variable_identity():
    v = keras.Variable(np.zeros(3, "float32"))
    w = keras.Variable(np.zeros(2, "float32"))
    with keras.StatelessScope(state_mapping=[(v, np.ones(3, "float32"))]) as scope:
        values = internals.stateless_scope_values(scope)
        assert set(values) == {id(v)}
        np.testing.assert_array_equal(ops.convert_to_numpy(v.value), 1)  # reads see it
        v.assign(np.full(3, 2.0, "float32"))  # a write replaces the entry ...
        assert internals.stateless_scope_values(scope) is values  # ... in the same dict
        np.testing.assert_array_equal(ops.convert_to_numpy(values[id(v)]), 2)
        w.assign(np.full(2, 3.0, "float32"))  # a variable not mapped is added
        np.testing.assert_array_equal(ops.convert_to_numpy(values[id(w)]), 3)
        # What jax_step.input_gradient does: an empty inner scope filled from the outer
        # one reads the outer values, and its writes are collected from its dict.
        before = dict(values)
        with keras.StatelessScope() as inner:
            internals.stateless_scope_values(inner).update(before)
            np.testing.assert_array_equal(ops.convert_to_numpy(v.value), 2)
            v.assign(np.full(3, 4.0, "float32"))
        writes = {k: x for k, x in internals.stateless_scope_values(inner).items()
                  if before.get(k) is not x}
        assert set(writes) == {id(v)}
        values.update(writes)
        np.testing.assert_array_equal(ops.convert_to_numpy(v.value), 4)
        np.testing.assert_array_equal(ops.convert_to_numpy(scope.get_current_value(v)), 4)
    np.testing.assert_array_equal(ops.convert_to_numpy(v.value), 0)  # unchanged outside
    np.testing.assert_array_equal(ops.convert_to_numpy(w.value), 0)


# -- the TensorFlow trainer's symbolic build (models/soundgan.py) ----------------------


def test_soundgan_overrides_the_symbolic_build_hook():
    from keras_soundgan.models.soundgan import SoundGAN

    assert internals.SYMBOLIC_BUILD_HOOK in vars(SoundGAN)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="a hook of Keras's TensorFlow trainer")
def test_the_tensorflow_trainer_calls_the_symbolic_build_hook_in_fit():
    hook = internals.SYMBOLIC_BUILD_HOOK
    assert callable(getattr(keras.Model, hook, None)), f"keras.Model has no {hook}"
    calls = []

    class Recording(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            return self.dense(x)

    def record(self, *args, **kwargs):
        calls.append(kwargs)
        return getattr(super(Recording, self), hook)(*args, **kwargs)

    setattr(Recording, hook, record)
    model = Recording()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32"), batch_size=2,
              epochs=1, verbose=0)
    assert calls and "iterator" in calls[0], calls


# -- tf2onnx (export/onnx.py) ------------------------------------------------------------


def test_patch_tf2onnx_patches_tf2onnx_and_it_converts_on_numpy_2():
    import onnxruntime
    import tensorflow as tf
    import tf2onnx

    internals.patch_tf2onnx()
    assert "patch_tf2onnx" in tf2onnx.tfonnx.rewrite_constant_fold.__qualname__
    assert "patch_tf2onnx" in tf2onnx.graph.Node.get_value_attr.__qualname__
    assert np.__dict__.get("object") is object

    weights = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
    def fn(x):
        y = tf.nn.relu(tf.matmul(x, tf.constant(weights)))
        return {"y": y + tf.cast(tf.shape(x)[0], tf.float32)}

    proto, _ = tf2onnx.convert.from_function(fn, input_signature=fn.input_signature,
                                             opset=17)
    session = onnxruntime.InferenceSession(proto.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).normal(size=(2, 4)).astype(np.float32)
    (y,) = session.run(None, {session.get_inputs()[0].name: x})
    np.testing.assert_allclose(y, fn(x)["y"].numpy(), rtol=1e-6)


# -- the .tflite schema and the int8 quantiser (export/litert.py, export/metadata.py) ---


def _tiny_module():
    """A dense layer, a ReLU, then ops in the name scope ``keep`` (the ones an int8
    export keeps float32, as it keeps the audio inverse)."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    w1 = tf.constant(rng.normal(size=(8, 16)).astype(np.float32))
    w2 = tf.constant(rng.normal(size=(16, 4)).astype(np.float32))

    class Tiny(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([1, 8], tf.float32, name="x")])
        def __call__(self, x):
            h = tf.nn.relu(tf.matmul(x, w1))
            with tf.name_scope("keep"):
                y = tf.exp(tf.matmul(h, w2) * 0.1)
            return {"y": y + 1.0}

    return Tiny()


def _converter(module):
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [module.__call__.get_concrete_function()], module)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    return converter


@pytest.fixture(scope="module")
def tiny():
    module = _tiny_module()
    return module, _converter(module).convert()


def _run(flatbuffer: bytes, x):
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_content=flatbuffer, num_threads=1).get_signature_runner()
    (y,) = runner(x=x).values()
    return y


def _tensor_types(flatbuffer: bytes) -> dict:
    schema = internals.tflite_schema()
    model = schema.Model.GetRootAsModel(flatbuffer, 0)
    subgraph = model.Subgraphs(0)
    return {subgraph.Tensors(t).Name().decode(): subgraph.Tensors(t).Type()
            for t in range(subgraph.TensorsLength())}


def test_tflite_schema_reads_and_writes_a_converted_model(tiny):
    import flatbuffers

    module, flatbuffer = tiny
    schema = internals.tflite_schema()
    # What export/litert.py and export/metadata.py use of it.
    for name in ("Model", "ModelT", "BufferT", "MetadataT", "TensorT", "BufferStart",
                 "BufferAddData", "BufferAddOffset", "BufferAddSize", "BufferEnd"):
        assert hasattr(schema, name), name
    for name in ("FULLY_CONNECTED", "DEQUANTIZE", "CUSTOM"):
        assert hasattr(schema.BuiltinOperator, name), name
    for name in ("FLOAT32", "FLOAT16", "INT8", "UINT8", "INT16"):
        assert hasattr(schema.TensorType, name), name

    flat = schema.Model.GetRootAs(flatbuffer, 0)
    assert flat.SubgraphsLength() == 1 and flat.SignatureDefsLength() == 1
    codes = {max(flat.OperatorCodes(i).BuiltinCode(),
                 flat.OperatorCodes(i).DeprecatedBuiltinCode())
             for i in range(flat.OperatorCodesLength())}
    assert schema.BuiltinOperator.FULLY_CONNECTED in codes

    # The object API round trip, with a metadata entry added as the LiteRT writer does.
    model = schema.ModelT.InitFromObj(flat)
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(b'{"a":1}', np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = "test"
    entry.buffer = len(model.buffers) - 1
    model.metadata = (model.metadata or []) + [entry]
    builder = flatbuffers.Builder(len(flatbuffer) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    written = bytes(builder.Output())

    again = schema.Model.GetRootAs(written, 0)
    names = [again.Metadata(i).Name().decode() for i in range(again.MetadataLength())]
    assert "test" in names
    data = again.Buffers(again.Metadata(names.index("test")).Buffer()).DataAsNumpy()
    assert bytes(data) == b'{"a":1}'
    x = np.random.default_rng(1).normal(size=(1, 8)).astype(np.float32)
    np.testing.assert_array_equal(_run(written, x), _run(flatbuffer, x))
    np.testing.assert_allclose(_run(written, x), module(x)["y"].numpy(), rtol=1e-5)


def test_calibrate_only_then_mlir_quantize_keeps_denylisted_ops_float(tiny):
    import tensorflow as tf

    module, flatbuffer = tiny
    schema = internals.tflite_schema()
    rng = np.random.default_rng(2)

    def representative():
        for _ in range(8):
            yield [rng.normal(size=(1, 8)).astype(np.float32)]

    converter = _converter(module)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    assert internals.calibrate_only(converter) is converter
    calibrated = converter.convert()
    # Calibrated, not quantised: float32 tensors with the statistics recorded.
    types = _tensor_types(calibrated)
    assert set(types.values()) == {schema.TensorType.FLOAT32}, types
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(calibrated, 0))
    assert any(t.quantization is not None and t.quantization.min is not None
               for t in model.subgraphs[0].tensors)

    keep = sorted(name for name in types if "keep" in name)
    assert keep, types
    quantized = internals.mlir_quantize(calibrated, denylisted_nodes=keep)
    types = _tensor_types(quantized)
    assert schema.TensorType.INT8 in set(types.values()), types
    assert all(types.get(name) == schema.TensorType.FLOAT32 for name in keep), types
    x = rng.normal(size=(1, 8)).astype(np.float32)
    expected = module(x)["y"].numpy()
    np.testing.assert_allclose(_run(quantized, x), expected, rtol=0.1, atol=0.1)


# -- model.save's attribute skip sets (files.save_model_atomically) ---------------------


def test_cached_skipsets_are_found_by_keras_and_equal_what_it_computes():
    from keras.src.backend.common import global_state
    from keras.src.saving import saving_lib

    def walked(names):
        # The names the walk can skip: it passes over every dunder name anyway (and
        # dir() of a class gains "__annotations__" once anything has read it).
        return {name for name in names if not name.startswith("__")}

    internals.cache_saving_skipsets()
    for obj_type in internals._SAVEABLE_TYPES:
        key = f"saving_attr_skiplist_{obj_type}"
        cached = global_state.get_global_attribute(key)
        assert saving_lib.get_attr_skipset(obj_type) is cached  # the key Keras reads
        global_state.set_global_attribute(key, None)
        try:
            computed = saving_lib.get_attr_skipset(obj_type)  # Keras's own, afresh
            assert walked(computed) == walked(cached) and len(walked(cached)) > 10
        finally:
            global_state.set_global_attribute(key, cached)


def test_a_save_with_the_cached_skipsets_holds_the_same_model(small_config, tmp_path):
    from keras.src.backend.common import global_state

    from keras_soundgan import SoundGAN
    from keras_soundgan.files import save_model_atomically

    model = SoundGAN(small_config)
    model.compile()
    images = np.random.default_rng(0).uniform(-1, 1, (8, 32, 32, 1)).astype("float32")
    model.fit(images, batch_size=8, epochs=1, verbose=0)  # optimizer slots too
    for obj_type in internals._SAVEABLE_TYPES:
        global_state.set_global_attribute(f"saving_attr_skiplist_{obj_type}", None)
    model.save(tmp_path / "keras.keras")  # Keras alone
    save_model_atomically(model, tmp_path / "cached.keras")
    plain, cached = (keras.saving.load_model(tmp_path / name)
                     for name in ("keras.keras", "cached.keras"))
    for a, b in ((plain.variables, cached.variables),
                 (plain.d_optimizer.variables, cached.d_optimizer.variables),
                 (plain.g_optimizer.variables, cached.g_optimizer.variables)):
        assert len(a) == len(b) > 0
        for u, v in zip(a, b):
            assert u.path == v.path and np.array_equal(ops.convert_to_numpy(u),
                                                       ops.convert_to_numpy(v))


# -- nothing private outside internals.py -----------------------------------------------

# Modules (and the attributes of tf / keras) that are Keras's and TensorFlow's own.
PRIVATE_MODULES = ("keras.src", "keras._tf_keras", "tensorflow.python",
                   "tensorflow.lite.python", "tensorflow.compiler", "tensorflow.core",
                   "tensorflow.tsl", "tensorflow._api", "tf2onnx.tfonnx")
PRIVATE_ATTRIBUTES = ("keras.src", "tf.python", "tensorflow.python", "tf.lite.python",
                      "tensorflow.lite.python", "tf.__internal__", "tensorflow.__internal__",
                      "keras.__internal__")
# Underscore names that are public by convention.
PUBLIC_UNDERSCORE = {"_exit", "_getframe", "_replace", "_asdict", "_fields", "_make"}


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def _is_private(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in PRIVATE_MODULES)


def _private_reaches(tree):
    """``(line, what)`` for each import of a private module, each dotted name into one
    and each ``import_module`` of one."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, f"import {a.name}") for a in node.names
                      if _is_private(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.module and _is_private(node.module):
            found.append((node.lineno, f"from {node.module} import ..."))
        elif isinstance(node, ast.Attribute):
            name = _dotted(node)
            if name and any(name == p or name.startswith(p + ".")
                            for p in PRIVATE_ATTRIBUTES):
                found.append((node.lineno, name))
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str) and _is_private(node.args[0].value)
              and (_dotted(node.func) or "").split(".")[-1] in ("import_module",
                                                                 "__import__")):
            found.append((node.lineno, f"import_module({node.args[0].value!r})"))
    return found


def _foreign_underscore_names(tree):
    """``(line, what)`` for each underscore name of another module or of an object of
    another module: an import of one, and an attribute (``obj._name``) that no class
    of this module defines (as a method, or by assigning ``self._name``).
    ``super()._name`` inside a method ``_name``, an override, is left to
    :func:`test_no_class_overrides_a_private_keras_method_but_the_listed_hook`."""

    def private(name):
        return (name.startswith("_") and not name.startswith("__")
                and name not in PUBLIC_UNDERSCORE)

    own = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            own.update(child.name for child in node.body
                       if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and node.value.id in ("self", "cls")):
            own.add(node.attr)
    found = []

    def visit(node, function=None):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        if isinstance(node, ast.ImportFrom):
            found.extend((node.lineno, f"from {node.module} import {a.name}")
                         for a in node.names if private(a.name))
        if isinstance(node, ast.Attribute) and private(node.attr) and node.attr not in own:
            value = node.value
            override = (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
                        and value.func.id == "super" and node.attr == function)
            if not override:
                found.append((node.lineno, ast.unparse(node)))
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(tree)
    return found


def _found_outside_internals(finder) -> dict:
    """``{module: finder's findings}`` for every module of the package but internals."""
    reaches = {}
    for name, path in SOURCES.items():
        if name != "keras_soundgan.internals":
            found = finder(ast.parse(path.read_text(encoding="utf-8")))
            if found:
                reaches[name] = found
    return reaches


def test_no_module_but_internals_reaches_into_private_keras_or_tensorflow():
    reaches = _found_outside_internals(_private_reaches)
    assert not reaches, (
        f"private Keras / TensorFlow used outside keras_soundgan/internals.py: {reaches}; "
        f"add a function to internals.py (with its test in tests/test_internals.py) and "
        f"call that")


def test_the_private_reach_check_finds_each_kind():
    source = ("import keras.src.ops\n"
              "from tensorflow.lite.python import convert\n"
              "import importlib\n"
              "x = tf.__internal__.nest\n"
              "m = importlib.import_module('tensorflow.python.ops')\n"
              "from keras import ops\n"
              "y = tf.lite.TFLiteConverter\n")
    assert sorted({line for line, _ in _private_reaches(ast.parse(source))}) == [1, 2, 4, 5]


def test_no_module_uses_the_underscore_names_of_another_object():
    reaches = _found_outside_internals(_foreign_underscore_names)
    assert not reaches, (
        f"underscore names of other objects or modules: {reaches}; a Keras or "
        f"TensorFlow one goes through keras_soundgan/internals.py, one of this package "
        f"is made public (or moved to a module both import)")


def test_the_underscore_check_finds_each_kind():
    source = ("from keras_soundgan.audio.io import _probe\n"
              "converter._experimental = True\n"
              "class A:\n"
              "    def _build(self):\n"
              "        self._x = os._exit\n"
              "        return super()._build() + super()._other()\n"
              "def same(a, b):\n"
              "    return a._x + b._build() + b._y\n")
    found = _foreign_underscore_names(ast.parse(source))
    assert sorted({line for line, _ in found}) == [1, 2, 6, 8]
    assert [what for line, what in found if line == 8] == ["b._y"]


def _modules():
    return [importlib.import_module(name) for name in SOURCES]


def test_no_class_overrides_a_private_keras_method_but_the_listed_hook():
    """A method of this package named like a private method of a Keras or TensorFlow
    base class overrides it: a reach, which internals.py must list."""
    overrides = set()
    for module in _modules():
        for value in vars(module).values():
            if not isinstance(value, type) or value.__module__ != module.__name__:
                continue
            for name in vars(value):
                if not name.startswith("_") or name.startswith("__"):
                    continue
                for base in value.__mro__[1:]:
                    if (base.__module__.split(".")[0] in ("keras", "tensorflow")
                            and name in vars(base)):
                        overrides.add((f"{module.__name__}.{value.__qualname__}", name))
    expected = {("keras_soundgan.models.soundgan.SoundGAN", internals.SYMBOLIC_BUILD_HOOK)}
    if keras.backend.backend() == "tensorflow":
        assert overrides == expected
    else:  # the hook is the TensorFlow trainer's only
        assert overrides <= expected


# -- __all__ -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_every_module_says_what_it_makes_public(name):
    module = importlib.import_module(name)
    assert hasattr(module, "__all__"), (
        f"{name} has no __all__: list its public names (an empty list when it has none)")
    assert len(set(module.__all__)) == len(module.__all__), module.__all__
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names what it lacks: {missing}"
