"""Registers the package's serializable classes with Keras as soon as Keras is imported.

``keras.saving.load_model`` finds a custom class by its registered name
(``"keras_soundgan>SoundGAN"``) in Keras's global custom objects; Keras imports a
class's module by itself only for its own packages (keras, keras_hub, keras_cv,
keras_nlp). The classes register themselves with ``register_keras_serializable``
when their modules are imported, but importing them costs seconds (TensorFlow), which
``import keras_soundgan`` and ``keras-soundgan --help`` should not pay.

So ``import keras_soundgan`` calls :func:`register_with_keras`: once Keras is imported
(at once if it already is, otherwise right after its own import finishes), every
registered name gets a stand-in whose ``from_config`` imports the real class and
builds it. Importing the real module replaces the stand-in with the class itself.
Only public Keras API is used (``keras.saving.get_custom_objects``).
"""

import importlib
import importlib.abc
import importlib.util
import sys

__all__ = ["PACKAGE", "SERIALIZABLE", "register_with_keras"]

# The registered names' package: "keras_soundgan>SoundGAN".
PACKAGE = "keras_soundgan"

# Every class the package registers with Keras -> the module that defines it.
# tests/test_registration.py checks this table against the registered classes.
SERIALIZABLE = {
    "DataConfig": "keras_soundgan.config",
    "DiscriminatorConfig": "keras_soundgan.config",
    "GeneratorConfig": "keras_soundgan.config",
    "ImageLayout": "keras_soundgan.models.layers",
    "SoundGAN": "keras_soundgan.models.soundgan",
    "SoundGANConfig": "keras_soundgan.config",
    "SpectrogramConfig": "keras_soundgan.config",
    "SpectrogramTransform": "keras_soundgan.audio.spectral",
    "TrainingConfig": "keras_soundgan.config",
}


def _stand_in(name, module):
    """A class whose ``from_config`` imports ``module`` and builds the real ``name``."""

    def from_config(cls, config):
        real = getattr(importlib.import_module(module), name)
        return real.from_config(config)

    def get_config(self):  # register_keras_serializable's contract; never called
        raise TypeError(f"{name} is not imported yet")

    return type(name, (), {
        "__doc__": f"Stands in for {module}.{name} until that module is imported.",
        "__module__": module,
        "from_config": classmethod(from_config),
        "get_config": get_config,
    })


def _register(keras_module):
    custom_objects = keras_module.saving.get_custom_objects()
    for name, module in SERIALIZABLE.items():
        # setdefault: a module already imported has registered the real class.
        custom_objects.setdefault(f"{PACKAGE}>{name}", _stand_in(name, module))


class _AfterKerasImport(importlib.abc.MetaPathFinder):
    """Finds ``keras`` like the other finders do, and registers once it has run."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras":
            return None
        sys.meta_path.remove(self)  # once; and find_spec below must not find us
        spec = importlib.util.find_spec("keras")
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module = spec.loader.exec_module

        def exec_then_register(module):
            exec_module(module)
            _register(module)

        spec.loader.exec_module = exec_then_register
        return spec


def register_with_keras():
    """Makes ``keras.saving.load_model`` read the package's classes, now or once Keras
    is imported, without importing Keras (or TensorFlow) itself."""
    if "keras" in sys.modules:
        _register(sys.modules["keras"])
    elif not any(isinstance(finder, _AfterKerasImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterKerasImport())
