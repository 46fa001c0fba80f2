"""Every reach into private Keras and TensorFlow, in one place.

The package otherwise uses public APIs only. Where no public API does what it needs,
the reach goes through a function here (the import inside it, so that importing
``keras_soundgan`` stays light), and ``tests/test_internals.py`` checks that each one
still exists and still behaves as relied on; a test there also refuses a private
import anywhere else in the package. An upgrade that moves one of these breaks here,
in one visible place: fix the function, and the callers follow.

Checked on Keras 3.15.1, TensorFlow 2.21.0, tf2onnx 1.17.0 and JAX 0.10.2 (the bounds
on ``keras`` in ``pyproject.toml`` keep to the versions checked).

The reaches, and why each is needed:

* :func:`get_stateless_scope` (``keras.src.backend.common.stateless_scope``) and
  :func:`stateless_scope_values` (``keras.StatelessScope.state_mapping``, public class,
  undocumented attribute): the JAX step (``models/jax_step.py``) takes the gradient of
  the critic with respect to its *input* (the gradient penalty) inside the scope that
  holds the step's variable values. It must find that enclosing scope, read its
  values and record the writes made under ``jax.grad`` back into it, by variable
  identity; Keras exports the scope class but neither the "current scope" getter nor
  a way to read or write its values other than one variable at a time.
* :data:`SYMBOLIC_BUILD_HOOK` (``TensorFlowTrainer._maybe_symbolic_build``):
  ``SoundGAN`` overrides this hook, which Keras's TensorFlow trainer calls at the
  start of ``fit``, to skip the symbolic build under ``tf.distribute`` (it would
  draw a batch from its own pass over the data, changing the shuffle order, and it
  fails under ``MultiWorkerMirroredStrategy``: keras-team/keras#20585). Keras has no
  public switch for it.
* :func:`patch_tf2onnx` (``keras.src.export.tf2onnx_lib.patch_tf2onnx``): tf2onnx
  1.17 still uses NumPy 1 aliases; Keras ships the patch it applies before its own
  ONNX export, and the ONNX writer (``export/onnx.py``) applies the same one.
* :func:`tflite_schema` (``tensorflow.lite.python.schema_py_generated``): the
  flatbuffer classes of the ``.tflite`` format. The LiteRT writer reorders
  subgraphs, embeds the metadata and puts float32 constants back
  (``export/litert.py``); :func:`~keras_soundgan.export.metadata.litert_metadata`
  reads the metadata back. TensorFlow has no public reader or writer of the format
  (``ai_edge_litert`` ships the same module, but is an optional extra).
* :func:`calibrate_only` (``TFLiteConverter._experimental_calibrate_only``) and
  :func:`mlir_quantize` (``tensorflow.lite.python.convert.mlir_quantize``): int8
  export calibrates first, then quantises with the audio inverse's ops denylisted
  (int8 has no room for a log magnitude's range or a unit-modulus phase). The public
  converter quantises all or nothing; this two-step route is the one TensorFlow's own
  quantisation debugger takes.
* :func:`cache_saving_skipsets` (``keras.src.saving.saving_lib.get_attr_skipset`` and
  ``keras.src.backend.common.global_state``): ``model.save`` walks every layer,
  optimizer and metric, and for each one Keras computes the attribute names to skip
  from a new reference object (a ``Layer()``, an ``Optimizer``). It means to cache
  that set, but stores it under ``saving_attr_skipset_{type}`` and looks it up under
  ``saving_attr_skiplist_{type}``, so it never finds it: saving the ``tiny`` preset's
  conditional model built 113 reference layers and took 0.19-0.21 s, 0.11 s with the
  sets cached under the key Keras reads (2 cores, 2026-12-06). Training saves a
  checkpoint every epoch. The sets are the same ones Keras computes.
"""

from __future__ import annotations

__all__ = [
    "SYMBOLIC_BUILD_HOOK",
    "cache_saving_skipsets",
    "calibrate_only",
    "get_stateless_scope",
    "mlir_quantize",
    "patch_tf2onnx",
    "stateless_scope_values",
    "tflite_schema",
]

#: The name of the private method of Keras's TensorFlow trainer that ``fit`` calls
#: before its first step (``SoundGAN`` overrides it; see the module's docstring).
SYMBOLIC_BUILD_HOOK = "_maybe_symbolic_build"


def get_stateless_scope():
    """The ``keras.StatelessScope`` in effect, or None outside any.

    Returns:
        keras.StatelessScope or None. The innermost scope entered and not yet left.
    """
    from keras.src.backend.common.stateless_scope import get_stateless_scope as current

    return current()


def stateless_scope_values(scope) -> dict:
    """The values a ``keras.StatelessScope`` holds, by ``id(variable)``.

    Args:
        scope: keras.StatelessScope. The scope to read.

    Returns:
        dict. The scope's own mapping ``{id(variable): value}``, not a copy: a read
        of a variable inside the scope returns its entry, an ``assign`` replaces it,
        and a change to the dict is what later reads see.
    """
    return scope.state_mapping


def patch_tf2onnx() -> None:
    """Makes tf2onnx run on NumPy 2, with the patch Keras applies for its own ONNX
    export (only ``numpy.object`` brought back where a Keras lacks it)."""
    import warnings

    import numpy as np

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from keras.src.export.tf2onnx_lib import patch_tf2onnx as patch

            patch()
        except ImportError:  # pragma: no cover - an older or newer Keras
            if "object" not in np.__dict__:
                np.object = object


def tflite_schema():
    """TensorFlow's module of the ``.tflite`` flatbuffer classes (``Model``,
    ``ModelT``, ``BufferT``, ``BuiltinOperator``, ``TensorType``, ...).

    Returns:
        module. ``tensorflow.lite.python.schema_py_generated``.
    """
    from tensorflow.lite.python import schema_py_generated

    return schema_py_generated


def calibrate_only(converter):
    """Makes ``converter.convert()`` return the calibrated float model (the
    representative data's statistics recorded on its tensors) instead of quantising.

    Args:
        converter: tf.lite.TFLiteConverter. A converter with
            ``optimizations`` and ``representative_dataset`` set.

    Returns:
        tf.lite.TFLiteConverter. ``converter``, changed in place.
    """
    converter._experimental_calibrate_only = True  # noqa: SLF001 (the debugger's route)
    return converter


def mlir_quantize(calibrated: bytes, denylisted_nodes=None) -> bytes:
    """Quantises a calibrated model (from a converter under :func:`calibrate_only`)
    to int8 weights and activations with float32 inputs and outputs.

    Args:
        calibrated: bytes. The calibrated ``.tflite`` model.
        denylisted_nodes: list of str or None. Names of tensors whose ops stay
            float32. Defaults to None: none.

    Returns:
        bytes. The quantised ``.tflite`` model.
    """
    from tensorflow.lite.python import convert

    return convert.mlir_quantize(calibrated, fully_quantize=False,
                                 denylisted_nodes=denylisted_nodes)


# The object types whose skip sets model.save asks for (those of get_attr_skipset that
# the package's models contain; another type is computed by Keras as before).
_SAVEABLE_TYPES = ("Operation", "Layer", "Functional", "Sequential", "Metric", "Optimizer",
                   "Loss")


def cache_saving_skipsets() -> None:
    """Caches the attribute sets that ``model.save`` skips, per object type, under the
    key Keras looks them up by (see the module's docstring). Cheap once done; call it
    before a save (``keras.utils.clear_session()`` empties the cache)."""
    from keras.src.backend.common import global_state
    from keras.src.saving import saving_lib

    for obj_type in _SAVEABLE_TYPES:
        key = f"saving_attr_skiplist_{obj_type}"
        if global_state.get_global_attribute(key) is None:
            global_state.set_global_attribute(key, saving_lib.get_attr_skipset(obj_type))
