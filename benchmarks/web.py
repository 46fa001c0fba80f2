"""One sound in the browser (LiteRT.js) beside the same .tflite in Python (LiteRT).

    python benchmarks/web.py                              # tiny preset, untrained, 3 classes
    python benchmarks/web.py --run runs/tiny-20250101-120000 --screenshot page.png
    python benchmarks/web.py --accelerator webgpu         # where the browser has a GPU

Exports the model with ``export_model(..., format="web")`` (the waveform signature,
batch 1: generator + Griffin-Lim with the preset's iterations), serves the folder on
127.0.0.1 as ``python -m http.server`` would, opens the page in Debian's headless
Chromium through Playwright and times ``window.drumpad.generate`` (the call a pad
click makes: the page's tensors in, the waveform out) ``--repeats`` times after one
warm-up. The same ``model.tflite`` is then timed in Python with
``ai_edge_litert.interpreter.Interpreter(num_threads=1)`` (LiteRT.js's WebAssembly
build is single-threaded too), batch 1, same number of calls. Prints the median and
the quartiles of each, in milliseconds.

``--screenshot PATH`` clicks the first pad and saves a picture of the page.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"

import numpy as np  # noqa: E402

#: Chromium flags for these machines (closed network, no GPU); see tests/test_web.py.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def build_model(preset: str, run: str | None):
    """``(model, its name, what to export: the run folder or the model)``."""
    import keras

    from keras_soundgan import SoundGAN, SoundGANConfig
    from keras_soundgan.runs import load_run

    if run:  # exported from the folder, whose data.json names the classes
        return load_run(run), Path(run).name, run
    keras.utils.set_random_seed(0)
    model = SoundGAN(SoundGANConfig.from_preset(preset, num_classes=3))
    height = model.config.spectrogram.height
    model.set_spectrogram_statistics(np.linspace(-2.0, -6.0, height).astype("float32"),
                                     np.full(height, 1.5, "float32"))
    return model, f"{preset} (untrained, 3 classes)", model


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def browser_times(folder: Path, chromium: str, repeats: int, accelerator: str,
                  screenshot: str | None) -> list:
    from playwright.sync_api import sync_playwright

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    flags = FLAGS if accelerator == "wasm" else [f for f in FLAGS if f != "--disable-gpu"] + [
        "--enable-unsafe-webgpu"]
    try:
        with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
            context = p.chromium.launch_persistent_context(
                profile, executable_path=chromium, args=flags, headless=True,
                viewport={"width": 800, "height": 720})
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{server.server_port}/index.html"
                      f"?accelerator={accelerator}")
            page.wait_for_function("document.body.dataset.ready === 'true' || "
                                   "document.body.dataset.error !== undefined", timeout=120_000)
            error = page.evaluate("document.body.dataset.error")
            if error:
                raise SystemExit(f"the page failed ({accelerator}): {error}")
            times = page.evaluate("(n) => window.drumpad.benchmark(n)", repeats)
            if screenshot:
                page.click("button.pad[data-label='0']")
                page.wait_for_function("window.drumpad.last !== null")
                page.screenshot(path=screenshot)
            context.close()
    finally:
        server.shutdown()
    return times


def python_times(model_file: Path, metadata: dict, repeats: int) -> list:
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=str(model_file), num_threads=1).get_signature_runner(
        "waveform")
    rng = np.random.default_rng(12345)
    inputs = {"z": rng.uniform(-1, 1, (1, metadata["latent_dim"])).astype(np.float32)}
    if metadata["num_classes"]:
        inputs["label"] = np.zeros(1, np.int32)
    runner(**inputs)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        runner(**inputs)
        times.append((time.perf_counter() - start) * 1000)
    return times


def describe(times) -> str:
    q1, median, q3 = statistics.quantiles(times, n=4)
    return f"{median:8.1f} ms  (quartiles {q1:.1f} - {q3:.1f})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--run", help="a trained run folder instead of an untrained preset")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--accelerator", choices=["wasm", "webgpu"], default="wasm")
    parser.add_argument("--chromium", default="/usr/lib/chromium/chromium")
    parser.add_argument("--screenshot", help="save a picture of the page after a click")
    args = parser.parse_args()

    from keras_soundgan.export import export_model, read_metadata

    model, name, source = build_model(args.preset, args.run)
    classes = None if args.run else ["kick", "snare", "hat"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = export_model(source, Path(tmp) / "site", format="web", class_names=classes)
        metadata = read_metadata(folder)
        size = (folder / "model.tflite").stat().st_size / 1e6
        browser = browser_times(folder, args.chromium, args.repeats, args.accelerator,
                                args.screenshot)
        python = python_times(folder / "model.tflite", metadata, args.repeats)
    print(f"{name}: {metadata['slice_length']} samples at {metadata['sample_rate']} Hz, "
          f"{metadata['griffin_lim']['iterations']} Griffin-Lim iterations, "
          f"model.tflite {size:.2f} MB; one sound, batch 1, {args.repeats} calls")
    print(f"  browser, LiteRT.js {args.accelerator:6s} {describe(browser)}")
    print(f"  Python, LiteRT 1 thread    {describe(python)}")
    print(f"  browser / Python: {statistics.median(browser) / statistics.median(python):.2f}")


if __name__ == "__main__":
    main()
