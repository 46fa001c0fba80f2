"""The named presets: each a recipe of config values, with the measurements behind it.

A recipe is plain data, ``{"name": ..., "spectrogram": {...}, "generator": {...},
...}``: :meth:`keras_soundgan.config.SoundGANConfig.from_preset` builds and validates
the config from it, so that this module imports nothing and the config module keeps
its sections and their checks. The comments beside each recipe say what was measured
to choose it (docs/evidence.md has the runs).
"""

from __future__ import annotations

import typing

__all__ = ["PRESET_USES", "RECIPES"]


def _recipe(name: str, spectrogram: dict, epochs: int, data: dict | None = None,
            upsampling: str = "transpose", learning_rate: float = 2e-4) -> dict:
    # The networks and the training of tiny, drums, notes and speech. Small networks
    # (16 base filters, 4 layers of 4x4 kernels, which overlap evenly at stride 2 and so
    # draw fewer checkerboard artefacts) and a DCGAN-style loop (non-saturating loss,
    # BatchNorm in the generator, one critic update per step, Adam 2e-4, 8e-4 for
    # speech) learned faster per CPU second than WGAN-GP with 5x5 kernels or the hinge
    # loss (which collapsed) in side-by-side runs on 2 CPU cores. For conditional models, the
    # label modulates every generator layer, the critic projects it on features that
    # keep the frequency axis, and an auxiliary classifier names the class: on 24
    # pitched notes this took the requested pitch from chance (2.6%) to 98% in 1,200
    # steps, where each of the three alone stayed at 0-3% and far from the data
    # (Frechet distance 500-540 against 68; docs/evidence.md). The generator's
    # moving average (0.999, warmed up) is what generate() uses. Augmentation and R1
    # are off: in these short runs on a few hundred examples DiffAugment slowed the
    # approach to the data (Frechet distance 139 against 75 after 1,200 steps on the
    # notes); R1 (gamma 1) brought the augmented run back to 69, no better than no
    # augmentation at all, at twice the cost of a step.
    return dict(
        name=name,
        spectrogram=spectrogram,
        generator=dict(latent_dim=32, base_filters=16, num_layers=4, kernel_size=4,
                                  normalization="batch", conditioning="modulation",
                                  upsampling=upsampling),
        discriminator=dict(base_filters=16, num_layers=4, kernel_size=4,
                                          projection="frequency"),
        training=dict(loss="non-saturating", n_critic=1, batch_size=32,
                                epochs=epochs, g_learning_rate=learning_rate,
                                d_learning_rate=learning_rate,
                                classification_weight=1.0, ema_decay=0.999),
        data=data or {},
    )


def _tiny() -> dict:
    # Small enough that an epoch of the embedded drum kit takes about a second on 2
    # idle CPU cores: 0.256 s clips as 64x64 linear spectrograms. What `keras-soundgan
    # train` runs with no arguments: 80 epochs (960 steps) draw the classes apart
    # where 30 left them blurred; the whole command took 105 s (docs/evidence.md).
    return _recipe("tiny", dict(sample_rate=16000, slice_length=4096, n_fft=128,
                                             hop_length=64, griffin_lim_iters=32), epochs=80)


def _drums() -> dict:
    # One-shots of up to a second (drums, percussion, effects): 64 mel bands of a
    # 512-point STFT every 8 ms, so attacks stay sharp (64x128 images); onsets aligned
    # by trimming leading silence. 500 epochs is about 4,000 steps for 250 hits.
    return _recipe(
        "drums",
        dict(sample_rate=16000, slice_length=16384, n_fft=512, hop_length=128,
                          n_mels=64, fmin=20.0, griffin_lim_iters=32),
        epochs=500, data=dict(trim_silence=True))


def _notes() -> dict:
    # Pitched notes (NSynth-like): 128 mel bands of a 1024-point STFT every 16 ms
    # (128x64 images). Below 1 kHz, where the fundamentals are, the bands are as fine
    # as the STFT's 15.6 Hz bins; a linear 256x128 image of a 512-point STFT is twice
    # as coarse there and four times the pixels, and measured slower to learn pitch
    # (46% against 62% after 600 steps, at 6 times the cost of a step). Nearest-neighbour
    # upsampling and a convolution (resize) in place of transposed convolutions: after
    # 1,200 steps the Frechet distance was 47.5 against 74.9, the pitch accuracy 100%
    # against 99.5%.
    return _recipe(
        "notes",
        dict(sample_rate=16000, slice_length=16384, n_fft=1024, hop_length=256,
                          n_mels=128, fmin=20.0, griffin_lim_iters=32),
        epochs=300, upsampling="resize")


def _speech() -> dict:
    # Spoken words (like SC09): a second of audio, silence trimmed so words start
    # together, as 128 mel bands of a 1024-point STFT every 16 ms (128x64 images).
    # Measured on spoken digits of CMU Flite (three voices, 750 words to train on, a
    # fourth voice held out; 250 generated words heard by pocketsphinx, grammar of the
    # ten words / open vocabulary; 15 minutes on 2 cores each, docs/evidence.md):
    # 64 mel bands 45% / 4%; 128 bands 58% / 10% (formants need the finer frequency
    # axis; 128x128 at hop 128 62% / 14% in half the epochs); 128 bands with Adam 4e-4
    # 74% / 23%, with 8e-4 for both networks 97% / 58% (the small networks were slow
    # learners at 2e-4, not short of capacity: 32 base filters gave 58% / 10% in a
    # third of the epochs). At 8e-4, transposed convolutions beat resize-convolution
    # upsampling in the runs against time (alone, the same scorer): 89% / 38% after 5
    # minutes, 99% / 75% after 15, 100% / 80% after 30 (0.91 of the held-out voice's
    # 88% with the open vocabulary), against resize's 66% / 16%, 96% / 61% and
    # 100% / 70%; they also run 1.7 times the epochs (698 against 401 in 30 minutes).
    return _recipe(
        "speech",
        dict(sample_rate=16000, slice_length=16384, n_fft=1024, hop_length=256,
                          n_mels=128, fmin=20.0, griffin_lim_iters=32),
        epochs=150, data=dict(trim_silence=True), learning_rate=8e-4)


def _dcgan() -> dict:
    # The SoundGan tutorial's DCGAN: nz=100, ngf=ndf=64, nc=1, 64x64 images, 4x4 kernels,
    # a 1x1 noise image grown by a valid 4x4 ConvTranspose, BatchNorm, LeakyReLU(0.2),
    # tanh; a critic ending in a 4x4 valid conv; BCE loss with Adam(2e-4, 0.5, 0.999).
    return dict(
        name="dcgan",
        spectrogram=dict(
            sample_rate=16000, slice_length=4096, n_fft=128, hop_length=64,
        ),
        generator=dict(
            latent_dim=100, base_filters=64, num_layers=4, kernel_size=4,
            activation="leaky_relu", stem="conv_transpose", normalization="batch",
            latent_distribution="normal",
        ),
        discriminator=dict(
            base_filters=64, num_layers=4, kernel_size=4, activation="leaky_relu",
            head="conv", normalization="batch",
        ),
        training=dict(
            loss="non-saturating", n_critic=1, batch_size=64, g_learning_rate=2e-4,
            d_learning_rate=2e-4, beta_1=0.5, beta_2=0.999,
        ),
    )


def _specgan() -> dict:
    # Donahue, McAuley & Puckette, "Adversarial Audio Synthesis" (ICLR 2019).
    return dict(
        name="specgan",
        spectrogram=dict(
            sample_rate=16000, slice_length=16384, n_fft=256, hop_length=128,
            log_eps=1e-6, clip_std=3.0, griffin_lim_iters=16,
        ),
        generator=dict(
            latent_dim=100, base_filters=64, num_layers=5, kernel_size=5,
            activation="relu", stem="dense", latent_distribution="uniform",
        ),
        discriminator=dict(
            base_filters=64, num_layers=5, kernel_size=5, activation="leaky_relu", head="dense",
        ),
        training=dict(
            loss="wgan-gp", gradient_penalty_weight=10.0, n_critic=5, batch_size=64,
            g_learning_rate=1e-4, d_learning_rate=1e-4, beta_1=0.5, beta_2=0.9,
        ),
    )


#: Each preset's recipe: a function that returns its config values.
RECIPES: dict[str, typing.Callable[[], dict]] = {
    "tiny": _tiny,
    "drums": _drums,
    "notes": _notes,
    "speech": _speech,
    "dcgan": _dcgan,
    "specgan": _specgan,
}


#: What each preset is for, in a few words (``keras-soundgan presets`` prints it).
PRESET_USES = {
    "tiny": "the quick demo, short drum hits",
    "drums": "drum hits and other one-shots",
    "notes": "pitched notes, a class per pitch",
    "speech": "spoken words of up to a second",
    "dcgan": "the SoundGan tutorial's DCGAN",
    "specgan": "SpecGAN, slow on a CPU",
}
