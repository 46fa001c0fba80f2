"""The web page of ``export --format web``, in a real browser.

Debian's Chromium, headless, driven by Playwright (the PyPI package, with
``executable_path``: Playwright never downloads a browser here), loads the exported
folder served by ``python -m http.server`` on 127.0.0.1, clicks a pad and reads what
the page made (``window.drumpad.last``): the samples must be finite, not silent, at most 1 in
magnitude, and equal to the Python waveform of the same noise and label.

What the test needs is installed by the run itself or the test fails saying what is
missing; it is never skipped: Chromium comes from ``apt-get install -y chromium`` when
it is not on the machine (as root; elsewhere, install it or point
``KERAS_SOUNDGAN_CHROMIUM`` at a Chromium binary), Playwright from the test extra.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from keras_soundgan import SoundGANConfig
from keras_soundgan.export import export_model
from keras_soundgan.models.soundgan import SoundGAN

N_ITER = 8
CLASSES = ["kick", "snare", "hat"]
#: Flags Chromium needs on these machines (closed network, no GPU, root): without them
#: it waits on the network or the GPU process.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
#: Where Debian's package puts the browser (``/usr/bin/chromium`` is a shell wrapper).
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium",
                       "/usr/bin/chromium-browser")


def _find_chromium():
    override = os.environ.get("KERAS_SOUNDGAN_CHROMIUM")
    if override:
        if not os.access(override, os.X_OK):
            pytest.fail(f"KERAS_SOUNDGAN_CHROMIUM={override!r} is not an executable")
        return override
    return next((path for path in CHROMIUM_CANDIDATES if os.access(path, os.X_OK)), None)


def _install_chromium():
    """``apt-get install -y chromium`` (root only), one test process at a time."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail("the browser test needs Chromium: apt-get install -y chromium (as root), "
                    "or set KERAS_SOUNDGAN_CHROMIUM to a Chromium binary")
    lock_path = Path(tempfile.gettempdir()) / "keras_soundgan_chromium_install.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # pytest-xdist workers wait for each other
        if _find_chromium():
            return
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for command in (["apt-get", "update"],
                        ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]):
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
            if done.returncode != 0:
                pytest.fail(f"{' '.join(command)} failed (exit {done.returncode}); the browser "
                            f"test needs Debian's chromium package:\n{done.stderr[-2000:]}")


@pytest.fixture(scope="session")
def chromium_path():
    path = _find_chromium()
    if path is None:
        _install_chromium()
        path = _find_chromium()
    if path is None:
        pytest.fail("apt-get installed chromium, but no binary is at "
                    f"{', '.join(CHROMIUM_CANDIDATES)}")
    return path


@pytest.fixture(scope="module")
def model():
    import keras

    keras.utils.set_random_seed(0)
    config = SoundGANConfig.from_preset("tiny", **{
        "spectrogram.slice_length": 2048, "spectrogram.n_fft": 64,
        "spectrogram.hop_length": 32, "generator.num_layers": 3,
        "generator.base_filters": 8, "generator.latent_dim": 16,
        "generator.num_classes": 3, "discriminator.num_layers": 3,
        "discriminator.base_filters": 8})
    model = SoundGAN(config)
    height = config.spectrogram.height
    # Loud statistics: sounds peak above 1, so the page gets the peak-limited samples.
    model.set_spectrogram_statistics(np.linspace(2.0, -2.0, height).astype("float32"),
                                     np.full(height, 1.5, "float32"))
    return model


def _python_sound(model, z, label):
    """The Python waveform of one sound: generate, inverse (from the locked phase, the
    config's default, which the exported graph computes too), peak limited to 1."""
    images = model.generate(1, z=np.asarray(z, np.float32)[None], labels=label)
    audio = model.spectrogram_transform().inverse(images, n_iter=N_ITER)[0]
    return audio / max(1.0, float(np.max(np.abs(audio))))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def site(model, tmp_path_factory):
    """The exported folder, served by ``python -m http.server`` run in it, as
    docs/web.md tells a user to do."""
    folder = export_model(model, tmp_path_factory.mktemp("web") / "site", format="web",
                          griffin_lim_iters=N_ITER, class_names=CLASSES)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                               "127.0.0.1"], cwd=folder, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"python -m http.server did not start on port {port}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def page(site, chromium_path, tmp_path_factory):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail('the browser test needs Playwright: pip install -e ".[test]"')
    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh --user-data-dir
    requests, errors = [], []
    with contextlib.ExitStack() as stack:
        playwright = stack.enter_context(sync_playwright())
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=chromium_path, args=CHROMIUM_FLAGS, headless=True,
            accept_downloads=True, timeout=60_000)
        stack.callback(context.close)
        page = context.new_page()
        page.on("request", lambda request: requests.append(request.url))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{site}/index.html")
        page.wait_for_function(
            "document.body.dataset.ready === 'true' || document.body.dataset.error !== undefined",
            timeout=60_000)
        failure = page.evaluate("document.body.dataset.error")
        assert failure is None, f"the page failed to load the model: {failure}"
        page.requests, page.errors, page.site = requests, errors, site
        yield page


def _click(page, label, variation):
    page.evaluate("(value) => { document.getElementById('variation').value = value; }",
                  str(variation))
    page.evaluate("window.drumpad.last = null")
    page.click(f"button.pad[data-label='{label}']")
    page.wait_for_function("window.drumpad.last !== null || document.body.dataset.error",
                           timeout=30_000)
    assert page.evaluate("document.body.dataset.error") is None
    return page.evaluate("window.drumpad.last")


def test_one_pad_per_class_and_nothing_from_outside(page):
    assert page.locator("button.pad").all_inner_texts() == ["kick\n1", "snare\n2", "hat\n3"]
    assert "3 classes" in page.inner_text("#model-info")
    # Offline: every request went to the local server (no CDN, no font, no analytics).
    assert page.requests and all(url.startswith(page.site) for url in page.requests), \
        page.requests
    assert not page.errors, page.errors


def test_a_click_makes_the_python_sound_for_the_same_noise_and_label(page, model):
    last = _click(page, 1, 0.5)
    assert last["name"] == "snare" and last["label"] == 1
    samples = np.asarray(last["samples"], np.float32)
    assert samples.shape == (model.config.spectrogram.slice_length,)
    assert last["rate"] == model.config.spectrogram.sample_rate
    assert np.all(np.isfinite(samples))
    assert np.sqrt(np.mean(samples ** 2)) > 0.01  # not silent
    assert np.max(np.abs(samples)) <= 1.0 + 1e-6  # ready to play
    expected = _python_sound(model, last["z"], 1)
    np.testing.assert_allclose(samples, expected, atol=1e-4)
    assert last["played"] is True  # handed to Web Audio
    assert "snare: generated in" in page.inner_text("#status")


def test_a_label_that_is_not_a_class_is_refused(page):
    """docs/export.md: a label outside [0, num_classes) is an error, never another
    class; the page's own generate() says which labels it has."""
    for bad in (-1, 3, 1.5, "1"):
        message = page.evaluate(
            "(label) => window.drumpad.generate(label, new Float32Array("
            "window.drumpad.meta.latent_dim)).then(() => 'accepted', e => e.message)", bad)
        assert message.startswith(f"label {bad} is not a class of this model: 0 to 2 "
                                  "(kick, snare, hat)"), message


def test_variation_zero_repeats_a_pad_and_one_draws_new_sounds(page):
    first, again = _click(page, 0, 0.0), _click(page, 0, 0.0)
    assert first["z"] == again["z"]
    np.testing.assert_array_equal(first["samples"], again["samples"])
    new = _click(page, 0, 1.0)
    assert np.max(np.abs(np.subtract(new["z"], first["z"]))) > 0.1
    assert np.all(np.abs(new["z"]) <= 1.0)  # still the model's uniform noise


def test_download_is_the_sound_as_a_wav(page, tmp_path):
    import soundfile as sf

    last = _click(page, 2, 0.3)
    with page.expect_download() as download:
        page.click("#download")
    assert download.value.suggested_filename.startswith("hat-")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    clip, rate = sf.read(path, dtype="float32")
    assert rate == last["rate"]
    np.testing.assert_allclose(clip, last["samples"], atol=1.5 / 32767)
