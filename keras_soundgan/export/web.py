"""The ``web`` format: a folder that plays a conditional generator in the browser.

:func:`write_page` copies the page of ``web_page/`` (``index.html``, ``drumpad.js``,
``style.css``) and the LiteRT.js runtime vendored beside it (``web_page/litertjs/``: the
``@litertjs/core`` ES module, its wasm loader and two WebAssembly builds; the version
and SHA-256 of each file are in ``litertjs/MANIFEST.json``) into the export folder,
next to the ``model.tflite`` (waveform signature, batch 1) that
:func:`~keras_soundgan.export.export_model` writes there. The folder is then a static
site: ``python -m http.server`` in it serves a page that works offline.

The runtime ships inside the Python package so that ``pip install keras-soundgan``
is all a user needs to export a page; ``examples/web/`` holds the npm project that
pins its version and copies it here (``npm install && npm run vendor``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

__all__ = ["PAGE_DIR", "RUNTIME_MANIFEST", "PAGE_FILES", "write_page", "runtime_manifest"]

#: The page and its vendored runtime, inside the package.
PAGE_DIR = Path(__file__).resolve().parent / "web_page"
#: The runtime's manifest, relative to :data:`PAGE_DIR`.
RUNTIME_MANIFEST = "litertjs/MANIFEST.json"
#: The page's own files, relative to :data:`PAGE_DIR`.
PAGE_FILES = ("index.html", "drumpad.js", "style.css")


def runtime_manifest() -> dict:
    """The vendored runtime's manifest: ``package``, ``version``, ``license`` and
    ``files`` (path relative to ``litertjs/`` -> SHA-256).

    Raises:
        FileNotFoundError: the runtime is missing from the installed package.
    """
    path = PAGE_DIR / RUNTIME_MANIFEST
    if not path.is_file():
        raise FileNotFoundError(
            f"the LiteRT.js runtime is missing from this installation ({path}); in a source "
            f"checkout, run 'npm install && npm run vendor' in examples/web")
    return json.loads(path.read_text(encoding="utf-8"))


def write_page(output) -> list:
    """Copies the page and the runtime into the folder ``output`` (made if needed;
    other files in it are left alone). Returns the paths written."""
    output = Path(output)
    manifest = runtime_manifest()
    names = list(PAGE_FILES) + [RUNTIME_MANIFEST] + [f"litertjs/{name}"
                                                     for name in manifest["files"]]
    written = []
    for name in names:
        source, target = PAGE_DIR / name, output / name
        if not source.is_file():
            raise FileNotFoundError(f"the web page's file {source} is missing from this "
                                    f"installation of keras-soundgan")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        written.append(target)
    return written
