"""Pictures of spectrograms: a colour-mapped grid written as PNG by TensorFlow.

No plotting library is needed: the grid is assembled in numpy, coloured with a
perceptually ordered colour map (magma's anchor colours, linearly interpolated),
captioned in a 3x5 pixel font, and encoded with ``tf.io.encode_png``.
"""

from __future__ import annotations

import math
import os

import numpy as np

__all__ = ["colormap", "save_png", "save_spectrogram_grid", "spectrogram_grid", "text_bitmap"]

# Anchor colours of matplotlib's "magma" at 0, 1/8, ..., 1 (black to pale yellow).
_MAGMA = np.array([
    [0, 0, 4], [28, 16, 68], [79, 18, 123], [129, 37, 129], [181, 54, 122],
    [229, 80, 100], [251, 135, 97], [254, 194, 135], [252, 253, 191],
], dtype=np.float64)


def colormap(values: np.ndarray) -> np.ndarray:
    """Maps values in [0, 1] (clipped) to RGB uint8 colours, shape ``values.shape + (3,)``."""
    v = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float64)), 0.0, 1.0)
    pos = v * (len(_MAGMA) - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, len(_MAGMA) - 1)
    frac = (pos - lo)[..., None]
    return np.round(_MAGMA[lo] * (1 - frac) + _MAGMA[hi] * frac).astype(np.uint8)


# A 3x5 pixel font for the captions (rows top to bottom, "#" is ink): lower-case
# letters, digits and a few signs; upper-case letters are drawn as lower-case.
_FONT = {
    "a": (".#.", "#.#", "###", "#.#", "#.#"), "b": ("##.", "#.#", "##.", "#.#", "##."),
    "c": (".##", "#..", "#..", "#..", ".##"), "d": ("##.", "#.#", "#.#", "#.#", "##."),
    "e": ("###", "#..", "##.", "#..", "###"), "f": ("###", "#..", "##.", "#..", "#.."),
    "g": (".##", "#..", "#.#", "#.#", ".##"), "h": ("#.#", "#.#", "###", "#.#", "#.#"),
    "i": ("###", ".#.", ".#.", ".#.", "###"), "j": ("..#", "..#", "..#", "#.#", ".#."),
    "k": ("#.#", "#.#", "##.", "#.#", "#.#"), "l": ("#..", "#..", "#..", "#..", "###"),
    "m": ("#.#", "###", "###", "#.#", "#.#"), "n": ("##.", "#.#", "#.#", "#.#", "#.#"),
    "o": (".#.", "#.#", "#.#", "#.#", ".#."), "p": ("##.", "#.#", "##.", "#..", "#.."),
    "q": (".#.", "#.#", "#.#", "##.", ".##"), "r": ("##.", "#.#", "##.", "#.#", "#.#"),
    "s": (".##", "#..", ".#.", "..#", "##."), "t": ("###", ".#.", ".#.", ".#.", ".#."),
    "u": ("#.#", "#.#", "#.#", "#.#", "###"), "v": ("#.#", "#.#", "#.#", "#.#", ".#."),
    "w": ("#.#", "#.#", "###", "###", "#.#"), "x": ("#.#", "#.#", ".#.", "#.#", "#.#"),
    "y": ("#.#", "#.#", ".#.", ".#.", ".#."), "z": ("###", "..#", ".#.", "#..", "###"),
    "0": ("###", "#.#", "#.#", "#.#", "###"), "1": (".#.", "##.", ".#.", ".#.", "###"),
    "2": ("##.", "..#", ".#.", "#..", "###"), "3": ("##.", "..#", ".#.", "..#", "##."),
    "4": ("#.#", "#.#", "###", "..#", "..#"), "5": ("###", "#..", "##.", "..#", "##."),
    "6": (".##", "#..", "###", "#.#", "###"), "7": ("###", "..#", ".#.", ".#.", ".#."),
    "8": ("###", "#.#", "###", "#.#", "###"), "9": ("###", "#.#", "###", "..#", "##."),
    "#": ("#.#", "###", "#.#", "###", "#.#"), "-": ("...", "...", "###", "...", "..."),
    "_": ("...", "...", "...", "...", "###"), ".": ("...", "...", "...", "...", ".#."),
    ":": ("...", ".#.", "...", ".#.", "..."), "=": ("...", "###", "...", "###", "..."),
    " ": ("...", "...", "...", "...", "..."),
}
_UNKNOWN = ("###",) * 5  # a block


def text_bitmap(text: str, scale: int = 1) -> np.ndarray:
    """``text`` in the 3x5 caption font: a bool array ``[5 * scale, 4 * len * scale]``
    (ink is True; one column of space after each character)."""
    columns = []
    for char in text.lower():
        glyph = np.array([[c == "#" for c in row] for row in _FONT.get(char, _UNKNOWN)])
        columns += [glyph, np.zeros((5, 1), bool)]
    bitmap = np.concatenate(columns, axis=1) if columns else np.zeros((5, 0), bool)
    return bitmap.repeat(scale, axis=0).repeat(scale, axis=1)


def spectrogram_grid(images, columns: int | None = None, scale: int = 2,
                     gap: int = 2, captions=None) -> np.ndarray:
    """Arranges normalised spectrogram images in a coloured grid.

    Args:
        images: ``[n, height, width]`` or ``[n, height, width, 1]`` values in [-1, 1]
            (the model's output), frequency increasing with the row index.
        columns: images per row (default: about the square root of ``n``).
        scale: each pixel becomes ``scale x scale`` pixels.
        gap: pixels of white between images.
        captions: ``n`` strings written above the images (``"kick seed 0 #3"``), in
            a 2x font on images at least 96 pixels wide where every caption fits,
            else in a 1x font, cut to the image's width; None for none.

    Returns:
        ``[rows, cols, 3]`` uint8 RGB, low frequencies at the bottom of each image.
    """
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or len(images) == 0:
        raise ValueError(
            f"images must have shape [n, height, width] or [n, height, width, 1] with n >= 1, "
            f"got {images.shape}")
    n, height, width = images.shape
    if captions is not None and len(captions) != n:
        raise ValueError(f"{len(captions)} captions for {n} images")
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    cell_h, cell_w = height * scale, width * scale
    # The 2x font on tiles wide enough for it and for every caption ("rimshot seed 0 #5"
    # is 17 characters: 134 pixels in 2x, more than a 64-pixel image at scale 2), else
    # the 1x font, which a caption wider still is cut to. A bitmap's last 2 columns are
    # the space after its last character.
    texts = [] if captions is None else [str(caption) for caption in captions]
    font = 2 if cell_w >= 96 and all(text_bitmap(t, 2).shape[1] - 2 <= cell_w
                                     for t in texts) else 1
    band = 0 if captions is None else 5 * font + 2 * gap  # a caption's height, with space
    grid = np.full((rows * (band + cell_h + gap) + gap, columns * (cell_w + gap) + gap, 3),
                   255, dtype=np.uint8)
    colours = colormap((images[:, ::-1, :] + 1.0) / 2.0)  # flip: low frequencies at bottom
    colours = colours.repeat(scale, axis=1).repeat(scale, axis=2)
    for i in range(n):
        r, c = divmod(i, columns)
        top, left = gap + r * (band + cell_h + gap) + band, gap + c * (cell_w + gap)
        grid[top:top + cell_h, left:left + cell_w] = colours[i]
        if captions is not None:
            ink = text_bitmap(texts[i], font)[:, :cell_w]
            text_top = top - gap - ink.shape[0]
            grid[text_top:text_top + ink.shape[0], left:left + ink.shape[1]][ink] = 0
    return grid


def save_png(path: str | os.PathLike, rgb: np.ndarray) -> None:
    """Writes an ``[h, w, 3]`` (or ``[h, w]``) uint8 array as a PNG file."""
    import tensorflow as tf

    rgb = np.asarray(rgb, dtype=np.uint8)
    if rgb.ndim == 2:
        rgb = rgb[..., None]
    tf.io.write_file(os.fspath(path), tf.io.encode_png(rgb))


def save_spectrogram_grid(path: str | os.PathLike, images, columns: int | None = None,
                          scale: int = 2, captions=None) -> None:
    """:func:`spectrogram_grid` written to ``path`` as PNG."""
    save_png(path, spectrogram_grid(images, columns=columns, scale=scale, captions=captions))
