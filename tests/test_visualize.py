"""Spectrogram pictures (keras_soundgan/visualize.py): the grid, its captions, and the
captions of the samples picture."""

import numpy as np
import pytest

from keras_soundgan import visualize
from keras_soundgan.visualize import spectrogram_grid, text_bitmap


def test_grid_places_each_image_under_its_caption():
    images = np.stack([np.full((8, 16), v) for v in (-1.0, 0.0, 1.0)])
    plain = spectrogram_grid(images, columns=3, scale=2, gap=2)
    assert plain.shape == (2 + 16 + 2, 2 + 3 * (32 + 2), 3)
    grid = spectrogram_grid(images, columns=3, scale=2, gap=2,
                            captions=["kick seed 0 #0", "b", "c"])
    band = 5 + 2 * 2  # a 1x font for tiles under 96 pixels wide, and space around it
    assert grid.shape == (plain.shape[0] + band, plain.shape[1], 3)
    # The images are where they were, one band lower; the caption's ink is black.
    np.testing.assert_array_equal(grid[band:], plain)
    ink = text_bitmap("kick seed 0 #0")[:, :32]
    caption = grid[4:9, 2:2 + ink.shape[1]]  # under the grid's gap and the band's space
    np.testing.assert_array_equal(caption.min(axis=2) == 0, ink)
    assert (grid[4:9, 2 + 32:2 + 32 + 2] == 255).all()  # cut at the tile's edge
    with pytest.raises(ValueError, match="2 captions for 3 images"):
        spectrogram_grid(images, captions=["a", "b"])


def test_captions_too_wide_for_the_large_font_are_written_whole_in_the_small_one():
    """The tiny preset's 64x64 images at scale 2 are 128 pixels wide: "kick seed 0 #0"
    fits there in the 2x font, "rimshot seed 0 #5" (17 characters, 134 pixels) does
    not, and its sound's number must not be cut off."""
    images = np.zeros((2, 64, 64))
    short = spectrogram_grid(images, columns=2, captions=["kick seed 0 #0", "snare #1"])
    assert short.shape[0] == 2 + (5 * 2 + 2 * 2) + 128 + 2  # a 2x band
    ink = text_bitmap("kick seed 0 #0", 2)[:, :128]
    np.testing.assert_array_equal(short[4:14, 2:2 + ink.shape[1]].min(axis=2) == 0, ink)

    grid = spectrogram_grid(images, columns=2, captions=["kick seed 0 #0",
                                                          "rimshot seed 0 #5"])
    assert grid.shape[0] == 2 + (5 + 2 * 2) + 128 + 2  # every caption in the 1x font
    whole = text_bitmap("rimshot seed 0 #5")
    assert whole.shape[1] <= 128
    left = 2 + 128 + 2  # the second tile
    np.testing.assert_array_equal(grid[4:9, left:left + whole.shape[1]].min(axis=2) == 0,
                                  whole)


def test_font_draws_every_character_and_marks_unknown_ones():
    assert text_bitmap("").shape == (5, 0)
    assert text_bitmap("a#9", scale=2).shape == (10, 24)
    # Upper case is drawn as lower case; an unknown character as a block.
    np.testing.assert_array_equal(text_bitmap("KICK"), text_bitmap("kick"))
    assert text_bitmap("é")[:, :3].all(axis=1)[[0, 4]].all()
    glyphs = {c: text_bitmap(c).tobytes() for c in "abcdefghijklmnopqrstuvwxyz0123456789"}
    assert len(set(glyphs.values())) == len(glyphs)  # no two characters look the same


def test_samples_picture_names_class_seed_and_place(tmp_path, monkeypatch):
    from keras_soundgan import SoundGAN, SoundGANConfig
    from keras_soundgan.samples import write_samples

    seen = {}
    monkeypatch.setattr(visualize, "save_spectrogram_grid",
                        lambda path, images, captions=None, **kw: seen.update(c=captions))
    config = SoundGANConfig.from_preset("tiny", **{"generator.num_classes": 2,
                                                  "generator.base_filters": 8})
    model = SoundGAN(config, class_names=["kick", "snare"])
    write_samples(model, tmp_path, 3, seed=7)
    assert seen["c"] == ["kick seed 7 #0", "snare seed 7 #1", "kick seed 7 #2"]
    write_samples(model, tmp_path, 2, seed=None, labels="snare")
    assert seen["c"] == ["snare #0", "snare #1"]
