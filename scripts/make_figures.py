"""Makes the pictures of the documentation with keras_soundgan itself.

    python scripts/make_figures.py                 # writes docs/images/*.png (~2-3 min)
    python scripts/make_figures.py --epochs 5      # quicker, blurrier generated sounds

Writes, into ``--output`` (default ``docs/images``):

* ``real-drums.png``: two clips of each class of the embedded drum kit as normalised
  spectrograms (the ``tiny`` preset's 64x64 images), by
  ``keras_soundgan.visualize.save_spectrogram_grid``;
* ``griffin-lim.png``: six of those clips (top row) and the spectrograms of the audio
  that Griffin-Lim rebuilds from them (bottom row);
* ``untrained.png`` and ``generated-drums.png``: twelve spectrograms from the ``tiny``
  generator before training and after ``--epochs`` epochs on the embedded drum kit
  (``keras_soundgan.train``, the same run as ``keras-soundgan train --epochs N``);
* ``training-curves.png``: that run's ``d_loss`` and ``g_loss`` per epoch, drawn into a
  numpy array and written with ``keras_soundgan.visualize.save_png`` (no plotting
  library).

Everything is seeded, so a rerun on the same machine and versions gives the same
pictures.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# -- a minimal line plot in numpy ----------------------------------------------------------

# 5x7 glyphs of the characters the plot writes (g and p reach two rows lower).
_GLYPHS = {
    "0": "01110 10001 10011 10101 11001 10001 01110",
    "1": "00100 01100 00100 00100 00100 00100 01110",
    "2": "01110 10001 00001 00010 00100 01000 11111",
    "3": "11111 00010 00100 00010 00001 10001 01110",
    "4": "00010 00110 01010 10010 11111 00010 00010",
    "5": "11111 10000 11110 00001 00001 10001 01110",
    "6": "00110 01000 10000 11110 10001 10001 01110",
    "7": "11111 00001 00010 00100 01000 01000 01000",
    "8": "01110 10001 10001 01110 10001 10001 01110",
    "9": "01110 10001 10001 01111 00001 00010 01100",
    ".": "00000 00000 00000 00000 00000 01100 01100",
    "-": "00000 00000 00000 11111 00000 00000 00000",
    "_": "00000 00000 00000 00000 00000 00000 11111",
    " ": "00000 00000 00000 00000 00000 00000 00000",
    "c": "00000 00000 01110 10000 10000 10001 01110",
    "d": "00001 00001 01101 10011 10001 10001 01111",
    "e": "00000 00000 01110 10001 11111 10000 01110",
    "g": "00000 00000 01111 10001 10001 10001 01111 00001 01110",
    "h": "10000 10000 10110 11001 10001 10001 10001",
    "l": "01100 00100 00100 00100 00100 00100 01110",
    "o": "00000 00000 01110 10001 10001 10001 01110",
    "p": "00000 00000 11110 10001 10001 10001 11110 10000 10000",
    "s": "00000 00000 01110 10000 01110 00001 11110",
}
_INK = (40, 40, 40)
_GRID = (225, 225, 225)
# Two colours of the spectrogram pictures' colour map (magma), for the two curves.
_COLOURS = {"d_loss": (79, 18, 123), "g_loss": (229, 80, 100)}


def _text(canvas, x, y, text, colour=_INK, scale=2, anchor="left"):
    """Writes ``text`` with its top at row ``y``; ``anchor`` left/right/centre at ``x``."""
    width = len(text) * 6 * scale - scale
    if anchor == "right":
        x -= width
    elif anchor == "centre":
        x -= width // 2
    for i, char in enumerate(text):
        rows = _GLYPHS[char].split()
        for r, row in enumerate(rows):
            for c, bit in enumerate(row):
                if bit == "1":
                    top, left = y + r * scale, x + (i * 6 + c) * scale
                    canvas[top:top + scale, left:left + scale] = colour


def _line(canvas, p, q, colour, radius=1.6):
    """A thick segment from ``p`` to ``q`` (x, y in pixels), drawn as stamped discs."""
    (x0, y0), (x1, y1) = p, q
    steps = int(max(abs(x1 - x0), abs(y1 - y0)) * 2) + 1
    r = int(math.ceil(radius))
    dy, dx = np.mgrid[-r:r + 1, -r:r + 1]
    disc = dx ** 2 + dy ** 2 <= radius ** 2
    for t in np.linspace(0.0, 1.0, steps):
        cx, cy = int(round(x0 + t * (x1 - x0))), int(round(y0 + t * (y1 - y0)))
        top, left = cy - r, cx - r
        patch = canvas[max(top, 0):cy + r + 1, max(left, 0):cx + r + 1]
        mask = disc[max(-top, 0):max(-top, 0) + patch.shape[0],
                    max(-left, 0):max(-left, 0) + patch.shape[1]]
        patch[mask] = colour


def _nice_ticks(low, high, count=5, min_step=0.0):
    span = max(high - low, 1e-9)
    raw = max(span / count, min_step)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw),
               default=10 * magnitude)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 1e-6:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(ticks[-1] + step)
    return ticks, step


def _format(value, step):
    decimals = max(0, -int(math.floor(math.log10(step)))) if step < 1 else 0
    return f"{value:.{decimals}f}"


def loss_plot(history: dict, width: int = 720, height: int = 360) -> np.ndarray:
    """``d_loss`` and ``g_loss`` per epoch as an RGB uint8 picture ``[height, width, 3]``."""
    canvas = np.full((height, width, 3), 255, np.uint8)
    left, right, top, bottom = 70, width - 20, 44, height - 50
    curves = {k: np.asarray(history[k], np.float64) for k in ("d_loss", "g_loss")}
    epochs = np.arange(1, len(curves["d_loss"]) + 1)
    values = np.concatenate(list(curves.values()))
    y_ticks, y_step = _nice_ticks(min(0.0, values.min()), values.max())
    y_low, y_high = y_ticks[0], y_ticks[-1]
    x_ticks, _ = _nice_ticks(1, max(epochs[-1], 2), count=6, min_step=1)
    x_ticks = [t for t in x_ticks if 1 <= t <= epochs[-1]] or [1]
    x_low, x_high = 1, max(epochs[-1], 2)

    def px(epoch, value):
        x = left + (epoch - x_low) / (x_high - x_low) * (right - left)
        y = bottom - (value - y_low) / (y_high - y_low) * (bottom - top)
        return x, y

    for value in y_ticks:
        _, y = px(x_low, value)
        canvas[int(round(y)), left:right + 1] = _GRID
        _text(canvas, left - 8, int(round(y)) - 7, _format(value, y_step), anchor="right")
    for epoch in x_ticks:
        x, _ = px(epoch, y_low)
        canvas[bottom:bottom + 6, int(round(x))] = _INK
        _text(canvas, int(round(x)), bottom + 10, str(int(epoch)), anchor="centre")
    canvas[top:bottom + 1, left] = _INK
    canvas[bottom, left:right + 1] = _INK
    _text(canvas, (left + right) // 2, height - 20, "epoch", anchor="centre")
    for name, curve in curves.items():
        points = [px(e, v) for e, v in zip(epochs, curve)]
        for p, q in zip(points[:-1], points[1:]):
            _line(canvas, p, q, _COLOURS[name])
        if len(points) == 1:
            _line(canvas, points[0], points[0], _COLOURS[name], radius=3)
    # Legend, above the plot on the right.
    for i, name in enumerate(reversed(list(curves))):
        x = right - 100 - i * 130
        _line(canvas, (x - 40, 19), (x - 10, 19), _COLOURS[name])
        _text(canvas, x, 12, name)
    return canvas


# -- the figures ---------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "images",
                        help="folder for the PNG files (default docs/images)")
    parser.add_argument("--epochs", type=int, default=20,
                        help="epochs of the tiny training run (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import keras

    from keras_soundgan import SoundGAN, SoundGANConfig, SpectrogramTransform, load_drums
    from keras_soundgan import train
    from keras_soundgan.visualize import save_png, save_spectrogram_grid

    start = time.perf_counter()
    out = args.output
    out.mkdir(parents=True, exist_ok=True)
    config = SoundGANConfig.from_preset("tiny", epochs=args.epochs, seed=args.seed)
    spec = config.spectrogram

    # Real drums: the first two clips of each class.
    waveforms, labels, names = load_drums(
        config.data.embedded_per_class, sample_rate=spec.sample_rate,
        length=spec.slice_length, seed=args.seed)
    transform = SpectrogramTransform(spec).adapt(waveforms)
    per_class = config.data.embedded_per_class
    pick = np.array([c * per_class + i for i in range(2) for c in range(len(names))])
    real = transform.forward(waveforms[pick])
    save_spectrogram_grid(out / "real-drums.png", real, columns=len(names))
    print(f"real-drums.png: {', '.join(names)} (columns), two of each (rows)")

    # Griffin-Lim round trip: images -> audio -> images again.
    first = real[:len(names)]
    rebuilt = transform.forward(transform.inverse(first))
    save_spectrogram_grid(out / "griffin-lim.png", np.concatenate([first, rebuilt]),
                          columns=len(names))
    print("griffin-lim.png: originals (top), after Griffin-Lim (bottom)")

    # Before training.
    keras.utils.set_random_seed(args.seed)
    save_spectrogram_grid(out / "untrained.png", SoundGAN(config).generate(12, seed=1),
                          columns=6)

    # A short training run on the embedded drum kit.
    with tempfile.TemporaryDirectory() as tmp:
        run = train(config, Path(tmp) / "run", preview_every=0, verbose=0, num_samples=2)
        save_spectrogram_grid(out / "generated-drums.png", run.model.generate(12, seed=1),
                              columns=6)
        save_png(out / "training-curves.png", loss_plot(run.history))
        print("training-curves.png: " + ", ".join(
            f"{k} {v[0]:.3f} -> {v[-1]:.3f}" for k, v in run.history.items()))
    for path in sorted(out.glob("*.png")):
        print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
              f"{path.stat().st_size / 1024:.0f} KB")
    print(f"done in {time.perf_counter() - start:.0f} s ({args.epochs} epochs)")


if __name__ == "__main__":
    main()
