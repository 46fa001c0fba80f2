"""``python -m keras_soundgan.export SOURCE OUTPUT [options]``: the export under the
TensorFlow backend that :func:`~keras_soundgan.export.export_model` runs in a subprocess
for models of other backends."""

import sys

from keras_soundgan.export.relaunch import main

__all__ = []

if __name__ == "__main__":
    sys.exit(main())
