"""SavedModel writer: signatures, the metadata asset and attributes."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from keras_soundgan.export.metadata import METADATA_ASSET
from keras_soundgan.export.signatures import Functions

__all__ = ["write_saved_model"]


def write_saved_model(functions: Functions, output: Path, metadata: dict) -> None:
    import tensorflow as tf

    module = functions.module
    module.sample_rate = tf.Variable(metadata["sample_rate"], dtype=tf.int32, trainable=False)
    module.latent_dim = tf.Variable(metadata["latent_dim"], dtype=tf.int32, trainable=False)
    module.slice_length = tf.Variable(metadata["slice_length"], dtype=tf.int32,
                                      trainable=False)
    module.latent_distribution = tf.Variable(metadata["latent_distribution"], trainable=False)
    module.num_classes = tf.Variable(metadata["num_classes"], dtype=tf.int32, trainable=False)
    module.class_names = tf.Variable(tf.constant(metadata["class_names"], tf.string,
                                                 shape=[len(metadata["class_names"])]),
                                     trainable=False)
    signatures = {key: fn.get_concrete_function() for key, fn in functions.ordered}
    signatures["serving_default"] = functions.ordered[0][1].get_concrete_function()
    signatures["metadata"] = module.metadata.get_concrete_function()
    with tempfile.TemporaryDirectory(prefix="keras_soundgan_export_") as tmp:
        asset = Path(tmp) / METADATA_ASSET
        asset.write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
        module.metadata_file = tf.saved_model.Asset(os.fspath(asset))
        if output.exists():
            shutil.rmtree(output)
        tf.saved_model.save(module, os.fspath(output), signatures=signatures)
