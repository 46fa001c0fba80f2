"""The ``keras-soundgan`` command line: parse, call the library, report.

Exit codes: 0 on success, 2 on bad usage (click's), 1 on any other error, reported as
one line that says what to do; ``--debug`` shows the traceback instead. A training
stopped by Ctrl-C exits with 130 and one stopped by SIGTERM with 143 (128 plus the
signal's number, as shells report them), after keeping the last complete epoch.

Importing this module imports click (and the package's small ``threads`` and ``checks``
modules) only: Keras and TensorFlow are imported by the commands that need them, so
``--help``, ``presets`` and bad usage answer at once, and the thread settings
(``--threads``, :mod:`keras_soundgan.threads`) are in place before any framework starts.
On the PyTorch backend the command line also has ``malloc`` keep freed memory for the
next step (:mod:`keras_soundgan.allocator`).

Progress bars (``preprocess``, ``evaluate``, ``export``) are click's, on stderr: the
library reports ``progress(stage, done, total)`` and :class:`ProgressBars` draws a bar
a stage. They show only where stderr is a terminal, and never with ``-q`` or
``--json``; ``KERAS_SOUNDGAN_PROGRESS=always`` draws them on any stderr (a CI log,
tests), ``never`` on none (see docs/reference/cli.md).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
import time

import click

from keras_soundgan.threads import THREADS_VARIABLE, set_thread_environment

__all__ = ["DISTRIBUTE", "PRESETS", "PROGRESS_MODES", "PROGRESS_VARIABLE", "ProgressBars",
           "evaluate", "export_command", "generate", "info", "main", "preprocess",
           "preset_summary", "presets", "runs", "train"]

# config.DISTRIBUTE, repeated so that `--help` does not import Keras (a test checks
# they agree).
DISTRIBUTE = ("none", "auto", "mirrored", "multi-worker", "data-parallel")

# config.PRESETS and what `presets` prints of each, repeated so that `--help`,
# `presets` and a mistyped --preset answer without importing Keras (a test checks they
# agree with config.py and prints the table to paste here when they do not).
PRESETS = {
    "tiny": "64x64 linear spectrograms, 0.26 s at 16000 Hz: the quick demo, short drum hits",
    "drums": "64x128 mel spectrograms, 1.02 s at 16000 Hz: drum hits and other one-shots",
    "notes": "128x64 mel spectrograms, 1.02 s at 16000 Hz: pitched notes, a class per pitch",
    "speech": "128x64 mel spectrograms, 1.02 s at 16000 Hz: spoken words of up to a second",
    "dcgan": "64x64 linear spectrograms, 0.26 s at 16000 Hz: the SoundGan tutorial's DCGAN",
    "specgan": "128x128 linear spectrograms, 1.02 s at 16000 Hz: SpecGAN, slow on a CPU",
}


def preset_summary(config) -> str:
    """What ``keras-soundgan presets`` prints for a config (after its name)."""
    from keras_soundgan.config_presets import PRESET_USES

    spec = config.spectrogram
    kind = "mel" if spec.n_mels else "linear"
    use = PRESET_USES.get(config.name)
    return (f"{spec.height}x{spec.width} {kind} spectrograms, {spec.duration:.2f} s at "
            f"{spec.sample_rate} Hz" + (f": {use}" if use else ""))


def _friendly_errors(command):
    """Turns library errors into a one-line message and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        ctx = click.get_current_context()
        try:
            return command(*args, **kwargs)
        except (click.ClickException, click.Abort, click.exceptions.Exit):
            raise
        except (ValueError, FileNotFoundError, FileExistsError, NotImplementedError,
                RuntimeError, OSError) as e:
            if ctx.find_root().params.get("debug"):
                raise
            click.echo(f"Error: {e}", err=True)
            sys.exit(1)

    return wrapper


def _note(message: str) -> None:
    _end_bar_line()
    click.echo(f"Note: {message}", err=True)


class _NoteHandler(logging.Handler):
    """The library's warnings (the ``keras_soundgan`` logger), as notes on stderr."""

    def emit(self, record):
        _note(record.getMessage())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True,
              help="Show full tracebacks on errors, and the C++ log lines of TensorFlow, "
                   "XLA and JAX (hidden otherwise).")
@click.option("--threads", type=click.IntRange(min=1), envvar=THREADS_VARIABLE,
              help="CPU threads for each framework's pool (TensorFlow, PyTorch; JAX takes "
                   f"1 only). Default: all cores. Also {THREADS_VARIABLE}.")
@click.version_option(package_name="keras-soundgan")
def main(debug, threads):
    """Train spectrogram GANs that invent new sounds, and listen to what they make.

    Start with `keras-soundgan train`: it trains the `tiny` preset on the embedded drum
    kit and writes a run folder with the model, WAV samples and a spectrogram picture.
    """
    # Before any framework starts: they read these when they do.
    try:
        set_thread_environment(threads)
    except (ValueError, RuntimeError) as e:
        raise click.BadParameter(str(e), param_hint="'--threads'") from None
    if os.environ.get("KERAS_BACKEND") == "torch":
        # PyTorch's steps reuse freed memory instead of faulting it in again.
        from keras_soundgan.allocator import keep_freed_memory

        keep_freed_memory()
    logger = logging.getLogger("keras_soundgan")
    if not any(isinstance(h, _NoteHandler) for h in logger.handlers):
        logger.addHandler(_NoteHandler(logging.WARNING))
        logger.propagate = False
    if not debug:
        # TensorFlow reads this when it starts; the lines it prints before reading it
        # (and XLA's, JAX's) are filtered out of stderr. Users can still set it.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        from keras_soundgan.native_logs import filter_native_logs

        filter_native_logs()


def _build_config(preset, config_file, overrides, from_preset=None, **flags):
    from keras_soundgan.config import SoundGANConfig, parse_override

    ctx = click.get_current_context()
    preset_given = ctx.get_parameter_source("preset") != click.core.ParameterSource.DEFAULT
    if from_preset is not None:
        if preset_given or config_file:
            raise click.UsageError("--from-preset brings its own config; change it with "
                                   f"--set, not --{'preset' if preset_given else 'config'}")
        from keras_soundgan.pretrained import read_preset

        config = read_preset(from_preset)[0]
    elif config_file:
        config = SoundGANConfig.from_json(config_file, preset=preset if preset_given else None)
    else:
        config = SoundGANConfig.from_preset(preset)
    changes = dict(parse_override(text) for text in overrides)
    changes.update({f"training.{k}": v for k, v in flags.items() if v is not None})
    return config.with_overrides(changes) if changes else config


def _config_options(command):
    for option in reversed([
        click.option("--preset", "-p", default="tiny", show_default=True,
                     type=click.Choice(list(PRESETS)),
                     help="Named configuration (`keras-soundgan presets` lists them)."),
        click.option("--config", "config_file", type=click.Path(dir_okay=False),
                     help="JSON config file: a full config.json, or sections overriding a "
                          "preset ({\"preset\": \"tiny\", \"training\": {\"epochs\": 3}})."),
        click.option("--set", "overrides", multiple=True, metavar="SECTION.FIELD=VALUE",
                     help="Override one config field, e.g. --set generator.latent_dim=64 or "
                          "--set data.slicing=all. Repeatable."),
    ]):
        command = option(command)
    return command


def _report_skip(item):
    _end_bar_line()
    click.echo(f"Skipped {item.path}: {item.reason}", err=True)


#: The environment variable that says where progress bars are drawn: ``auto`` (the
#: default: where stderr is a terminal), ``always`` or ``never``. ``-q`` and ``--json``
#: hide them whatever it says.
PROGRESS_VARIABLE = "KERAS_SOUNDGAN_PROGRESS"
PROGRESS_MODES = ("auto", "always", "never")


class _Terminal:
    """A stream that says it is a terminal, so that click draws its bar there as on
    one (``KERAS_SOUNDGAN_PROGRESS=always`` on a stderr that is not)."""

    def __init__(self, stream):
        self._stream = stream

    def isatty(self) -> bool:
        return True

    def __getattr__(self, name):
        return getattr(self._stream, name)


class ProgressBars:
    """The library's ``progress(stage, done, total)`` calls as click progress bars on
    ``stream``: a bar a stage, labelled with it, ``done/total`` beside it (and the time
    left, once it is known). A bar ends (its line too) when ``done`` reaches ``total``
    or another stage starts; a ``total`` that changes (the judge stopping early) is
    the bar's new length.

    Args:
        stream: text stream. Where the bars are drawn (stderr).
    """

    def __init__(self, stream):
        self._stream = stream
        self._bar = None
        self._stage = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self._bar is None or stage != self._stage:
            self.close()
            self._stage = stage
            self._bar = click.progressbar(length=total, label=stage, file=self._stream,
                                          show_pos=True)
            self._bar.__enter__()  # draws it at 0
        bar = self._bar
        bar.length = total
        if done > bar.pos:
            bar.update(done - bar.pos)
        if done >= total:
            bar.finish()  # also where the total fell to what was done
            bar.render_progress()
            self.close()

    def end_line(self) -> None:
        """Ends the line of a bar being drawn, so that a message can be printed below
        it (the bar goes on, on the next line, at its next step)."""
        if self._bar is not None:
            self._stream.write("\n")
            self._stream.flush()

    def close(self) -> None:
        """Ends the bar being drawn, if any (its line too)."""
        bar, self._bar, self._stage = self._bar, None, None
        if bar is not None:
            bar.__exit__(None, None, None)


_bars: ProgressBars | None = None  # the bars being drawn, while a command runs


def _end_bar_line() -> None:
    if _bars is not None:
        _bars.end_line()


@contextlib.contextmanager
def _progress(quiet: bool, as_json: bool):
    """The ``progress`` callback of a command's library call: :class:`ProgressBars`
    on stderr, or ``None`` where no bar is drawn (``-q``, ``--json``, a stderr that
    is not a terminal unless ``KERAS_SOUNDGAN_PROGRESS=always``, or ``never``)."""
    global _bars
    mode = os.environ.get(PROGRESS_VARIABLE, "").strip().lower() or "auto"
    if mode not in PROGRESS_MODES:
        raise click.UsageError(f"{PROGRESS_VARIABLE} must be one of "
                               f"{', '.join(PROGRESS_MODES)}, got {mode!r}")
    stream = sys.stderr
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        terminal = False
    if quiet or as_json or mode == "never" or (mode == "auto" and not terminal):
        yield None
        return
    _bars = ProgressBars(stream if terminal else _Terminal(stream))
    try:
        yield _bars
    finally:
        _bars.close()
        _bars = None


# Every command that prints results takes these two, with the same meaning.
_quiet_option = click.option("--quiet", "-q", is_flag=True,
                             help="Print nothing but errors and notes (no progress bar).")
_json_option = click.option("--json", "as_json", is_flag=True,
                            help="Print the result as one JSON object on stdout (and "
                                 "nothing else there: notes go to stderr; no progress "
                                 "bar).")


def _say(quiet):
    """``click.echo`` unless quiet (progress and chatter; the result is printed apart),
    below any progress bar being drawn."""
    if quiet:
        return lambda message: None

    def say(message):
        _end_bar_line()
        click.echo(message)

    return say


def _print_json(value):
    import json

    click.echo(json.dumps(value, indent=2, default=str))


@main.command()
@click.argument("data_dir", required=False, type=click.Path(exists=True, file_okay=False))
@_config_options
@click.option("--epochs", type=click.IntRange(min=1),
              help="Passes over the data (default: the preset's; with --minutes alone: "
                   "no epoch limit).")
@click.option("--minutes", type=click.FloatRange(min=0, min_open=True),
              help="Train for this wall-clock budget (from the first step), stopping at "
                   "the end of the last epoch that fits; with --epochs too, whichever "
                   "comes first. Also with --resume: that many more minutes.")
@click.option("--batch-size", type=click.IntRange(min=1),
              help="Examples per step (lowered to fit data smaller than one batch).")
@click.option("--seed", type=click.IntRange(min=0), help="Seed for noise, shuffling and weights.")
@click.option("--output", "-o", type=click.Path(file_okay=False),
              help="Run folder to write (default: runs/<preset>-<date>-<time>).")
@click.option("--samples", default=8, show_default=True, type=click.IntRange(min=1),
              help="WAV files to generate at the end.")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False),
              help="Spectrogram cache folder for DATA_DIR (default: under "
                   "~/.cache/keras-soundgan); rebuilt when the files or config change.")
@click.option("--conditional/--unconditional", default=None,
              help="Condition the model on the data's classes (class sub-folders, or the "
                   "drum kit's kinds), so that `generate --label NAME` picks one. Default: "
                   "conditional when the data has two classes or more.")
@click.option("--resume", "resume_dir", metavar="RUN",
              help="Continue a run from its last complete epoch: its folder, its name "
                   "under runs/, or 'latest' (with --epochs N or --minutes N to train "
                   "longer). `keras-soundgan runs` lists them.")
@click.option("--preview-every", default=5, show_default=True, type=click.IntRange(min=0),
              help="Epochs between previews (WAV, PNG, TensorBoard); 0 for none.")
@click.option("--from-preset", "from_preset", metavar="NAME_OR_DIR",
              help="Fine-tune a pretrained model (drums, notes, speech, tiny, or a folder "
                   "from save_to_preset) on DATA_DIR: start from its weights, with its "
                   "config (--set still applies).")
@click.option("--distribute", type=click.Choice(DISTRIBUTE),
              help="Data parallelism (training.distribute): mirrored (TensorFlow, this "
                   "machine's GPUs), multi-worker (TensorFlow, the hosts in TF_CONFIG), "
                   "data-parallel (JAX, every device), auto (the backend's), none. "
                   "--batch-size stays the global batch.")
@click.option("--devices", type=click.IntRange(min=1),
              help="How many devices --distribute uses (default: all).")
@click.option("--workers", "-j", type=click.IntRange(min=1),
              help="Processes that decode and resample the recordings when their "
                   "spectrogram cache is built (default: every core).")
@click.option("--overwrite", is_flag=True, help="Replace a run already in --output.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@_json_option
@_friendly_errors
def train(data_dir, preset, config_file, overrides, epochs, minutes, batch_size, seed, output,
          samples, cache_dir, conditional, resume_dir, preview_every, from_preset, distribute,
          devices, workers, overwrite, quiet, as_json):
    """Train a SoundGAN and write a run folder.

    DATA_DIR is a folder of recordings (wav, flac, ogg, aiff, mp3, ...; class
    sub-folders become labels) or a cache made by `keras-soundgan preprocess`. Files
    that cannot be used are reported and skipped. Without DATA_DIR it trains on the
    embedded drum kit (kicks, snares, hi-hats, ...), synthesised on the fly: nothing
    is downloaded.
    """
    from keras_soundgan.runs import (NO_EPOCH_LIMIT, TrainingInterrupted, default_run_dir,
                                     resume_settings, train as train_run)

    # --minutes alone trains by time: no epoch limit.
    by_time = minutes is not None and epochs is None
    if resume_dir:
        from keras_soundgan.run_folder import find_run

        try:
            resume_dir = os.fspath(find_run(resume_dir))
        except FileNotFoundError as error:
            raise click.BadParameter(str(error), param_hint="--resume") from None
        ctx = click.get_current_context()
        changed = [name for name in ("preset", "config_file", "overrides", "batch_size", "seed",
                                     "output", "from_preset")
                   if ctx.get_parameter_source(name) != click.core.ParameterSource.DEFAULT]
        if changed:
            raise click.UsageError(
                f"--resume continues a run with its own config; only --epochs, --minutes, "
                f"--distribute and --devices may change "
                f"(got --{changed[0].replace('_file', '').replace('_', '-')})")
        from pathlib import Path

        config, _ = resume_settings(Path(resume_dir), None, data_dir)
        if config.training.epochs >= NO_EPOCH_LIMIT and minutes is None and epochs is None:
            raise click.UsageError(
                f"{resume_dir} trains by time (it was started with --minutes alone): say "
                "how much longer with --minutes N or --epochs N")
        changes = {f"training.{k}": v for k, v in
                   (("epochs", NO_EPOCH_LIMIT if by_time else epochs),
                    ("distribute", distribute), ("devices", devices))
                   if v is not None}
        if changes:
            config = config.with_overrides(changes)
        run_dir = resume_dir
    else:
        config = _build_config(preset, config_file, overrides, from_preset,
                               epochs=NO_EPOCH_LIMIT if by_time else epochs,
                               batch_size=batch_size, seed=seed, distribute=distribute,
                               devices=devices)
        run_dir = output or default_run_dir(config)
    spec = config.spectrogram
    t = config.training
    length = f"{t.epochs} epochs"
    if minutes is not None:
        length = f"{minutes:g} minutes" + ("" if t.epochs >= NO_EPOCH_LIMIT
                                          else f" or {t.epochs} epochs, whichever comes first")
    # With --json, stdout holds the JSON only: the messages go to stderr.
    say = functools.partial(click.echo, err=True) if as_json else click.echo
    say(f"Training preset {config.name!r}: {spec.height}x{spec.width} spectrograms of "
        f"{spec.duration:.2f} s at {spec.sample_rate} Hz, loss {t.loss}, "
        f"{length}, batch {t.batch_size}")
    if not resume_dir:
        say(f"Data: {data_dir or 'embedded drum kit'}")
    start = time.perf_counter()
    try:
        result = train_run(config, run_dir, data_dir, resume=bool(resume_dir),
                           conditional=conditional, minutes=minutes, workers=workers,
                           cache_dir=cache_dir, overwrite=overwrite,
                           verbose=0 if quiet or as_json else "auto", num_samples=samples,
                           preview_every=preview_every, from_preset=from_preset,
                           on_skip=_report_skip, log=say)
    except TrainingInterrupted as e:
        click.echo(f"\nStopped: {e}", err=True)
        sys.exit(128 + int(e.signal))
    elapsed = time.perf_counter() - start
    wavs = [p for p in result.sample_files if p.suffix == ".wav"]
    if as_json:
        _print_json({"run_dir": result.run_dir, "model": result.run_dir / "model.keras",
                     "epochs": result.epochs, "seconds": round(elapsed, 1),
                     "stopped_by_time": result.stopped_by_time,
                     "samples": [str(p) for p in result.sample_files]})
        return
    click.echo(f"Done in {elapsed:.0f} s. Run folder: {result.run_dir}")
    click.echo(f"  model:   {result.run_dir / 'model.keras'}")
    click.echo(f"  samples: {len(wavs)} WAV files and spectrograms.png in "
               f"{result.run_dir / 'samples'}")
    if result.stopped_by_time:
        click.echo(f"  continue: keras-soundgan train --resume {result.run_dir} --minutes N")


@main.command(short_help="Compute a folder's spectrograms once, into a cache.")
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--output", "-o", required=True, type=click.Path(file_okay=False),
              help="Cache folder to write (replaced if it exists).")
@_config_options
@click.option("--workers", "-j", type=click.IntRange(min=1),
              help="Processes that decode and resample the recordings when their "
                   "spectrogram cache is built (default: every core).")
@_quiet_option
@_json_option
@_friendly_errors
def preprocess(data_dir, output, preset, config_file, overrides, workers, quiet, as_json):
    """Compute the spectrograms of a folder of recordings once, into a cache.

    Train on it with `keras-soundgan train CACHE_DIR` (same spectrogram and data
    config). Unusable files are reported and skipped. The files are decoded on every
    core (--workers); the cache is the same whatever their number.
    """
    config = _build_config(preset, config_file, overrides)
    from keras_soundgan.audio.cache import build_cache

    start = time.perf_counter()
    with _progress(quiet, as_json) as progress:
        cache = build_cache(data_dir, output, config, on_skip=_report_skip, workers=workers,
                            progress=progress)
    spec = config.spectrogram
    if as_json:
        _print_json({"output": output, "examples": len(cache),
                     "shape": [spec.height, spec.width], "class_names": list(cache.class_names),
                     "seconds": round(time.perf_counter() - start, 1),
                     "report": cache.manifest["report"]})
        return
    if quiet:
        return
    click.echo(cache.manifest["report"]["summary"])
    classes = ", ".join(cache.class_names) or "none (unlabelled)"
    click.echo(f"Wrote {len(cache)} spectrograms of {spec.height}x{spec.width} to {output} "
               f"in {time.perf_counter() - start:.1f} s; classes: {classes}")


_PRETRAINED_HELP = ("A pretrained model instead of a run: drums, notes, speech or tiny "
                    "(or a folder from save_to_preset); nothing to train.")


def _model_source(run_dir, preset):
    """The model of RUN_DIR or of --preset (exactly one), and the name of its source."""
    if (run_dir is None) == (preset is None):
        raise click.UsageError("give a RUN_DIR or --preset NAME, one of the two")
    if preset is not None:
        from keras_soundgan.models.soundgan import SoundGAN

        return SoundGAN.from_preset(preset), preset
    from keras_soundgan.runs import load_run

    return load_run(run_dir, log=_note), run_dir


@main.command(short_help="Generate WAV files from a run or a pretrained preset.")
@click.argument("run_dir", required=False, type=click.Path(file_okay=False))
@click.option("--preset", metavar="NAME", help=_PRETRAINED_HELP)
@click.option("-n", "num", default=8, show_default=True, type=click.IntRange(min=1),
              help="Sounds to generate.")
@click.option("--output", "-o", type=click.Path(file_okay=False),
              help="Folder for the WAV files and PNG (default: RUN_DIR/generated, or "
                   "generated-NAME for --preset).")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Noise seed (default: fresh noise each time).")
@click.option("--interpolate", nargs=2, type=click.IntRange(min=0), metavar="SEED_A SEED_B",
              help="A latent walk of -n steps from SEED_A's noise to SEED_B's.")
@click.option("--label", "label_name", default=None,
              help="The class to generate (a conditional run): a class name such as "
                   "'kick'. Default: every class in turn.")
@_quiet_option
@_json_option
@_friendly_errors
def generate(run_dir, preset, num, output, seed, interpolate, label_name, quiet, as_json):
    """Generate sounds from a trained run or a pretrained preset: WAV files and a
    spectrogram PNG.

    `keras-soundgan generate --preset drums --label kick` needs no training. A run
    whose training did not finish (stopped by Ctrl-C, SIGTERM or a crash) has no
    model.keras: its last checkpoint is used, and a note says so.
    """
    from keras_soundgan.runs import label_indices
    from keras_soundgan.samples import interpolate_latents, write_samples

    model, source = _model_source(run_dir, preset)
    labels = None
    if label_name is not None:
        labels = label_indices(model, source, [label_name])[0]
    output = output or (os.path.join(run_dir, "generated") if run_dir
                        else f"generated-{os.path.basename(os.path.normpath(preset))}")
    z = None
    if interpolate:
        if seed is not None:
            raise click.UsageError("--seed and --interpolate exclude each other")
        if num < 2:
            raise click.UsageError("--interpolate needs -n of at least 2 steps")
        z = interpolate_latents(model, interpolate[0], interpolate[1], num)
    paths = write_samples(model, output, num, seed=seed, z=z, labels=labels,
                          prefix="step" if interpolate else label_name)
    if as_json:
        _print_json({"output": output, "files": [str(p) for p in paths],
                     "sample_rate": model.config.spectrogram.sample_rate})
    elif not quiet:
        click.echo(f"Wrote {num} WAV files and spectrograms.png to {output}")
        for p in paths:
            click.echo(f"  {p}")


@main.command(short_help="Show a run's config, size, data and training state.")
@click.argument("run_dir", type=click.Path(file_okay=False))
@_json_option
@_friendly_errors
def info(run_dir, as_json):
    """Show a run's configuration, parameter counts, data and training state.

    For a run whose training did not finish, its last checkpoint (a note says so).
    """
    from pathlib import Path

    from keras import ops

    from keras_soundgan.run_folder import (CHECKPOINTS_DIR, DATA_FILE, latest_checkpoint,
                                           read_data, read_history)
    from keras_soundgan.runs import load_run

    run = Path(run_dir)
    model = load_run(run_dir, log=_note)
    data = read_data(run) if (run / DATA_FILE).is_file() else None
    mean = ops.convert_to_numpy(model.spectrogram_mean)
    std = ops.convert_to_numpy(model.spectrogram_std)
    steps = (int(ops.convert_to_numpy(model.optimizer.iterations))
             if model.optimizer is not None else None)
    latest = latest_checkpoint(run / CHECKPOINTS_DIR)
    history = read_history(run)
    if as_json:
        _print_json({"config": model.config.get_config(),
                     "generator_parameters": model.generator.count_params(),
                     "discriminator_parameters": model.discriminator.count_params(),
                     "data": data, "trained_steps": steps,
                     "checkpoint": {"epoch": latest[0], "file": latest[1]} if latest else None,
                     "epochs": len(next(iter(history.values()), [])),
                     "last_epoch": {k: v[-1] for k, v in history.items()}})
        return
    click.echo(model.config.summary())
    click.echo(f"generator:     {model.generator.count_params():,} parameters")
    click.echo(f"discriminator: {model.discriminator.count_params():,} parameters")
    if data is not None:
        classes = ", ".join(data["class_names"]) or "none (unlabelled)"
        click.echo(f"data:          {data['source']}; classes: {classes}")
    click.echo(f"statistics:    log-magnitude mean {mean.min():.2f} .. {mean.max():.2f}, "
               f"std {std.min():.2f} .. {std.max():.2f} over {len(mean)} bins")
    if steps is not None:
        click.echo(f"trained steps: {steps}")
    if latest:
        click.echo(f"checkpoint:    epoch {latest[0]} ({latest[1]})")
    if history:
        last = ", ".join(f"{k} {v[-1]:.4f}" for k, v in history.items())
        click.echo(f"last epoch:    {last} (epoch {len(next(iter(history.values())))})")


@main.command("export", short_help="Export to LiteRT, SavedModel, ONNX or a web page.")
@click.argument("run_dir", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--preset", metavar="NAME", help=_PRETRAINED_HELP)
@click.option("--format", "-f", "format_", default="litert", show_default=True,
              type=click.Choice(["litert", "saved_model", "onnx", "web"]),
              help="litert: a .tflite file for phones; saved_model: a folder for "
                   "TensorFlow Serving; onnx: an .onnx file for ONNX Runtime; web: a folder "
                   "with a page that plays the model in the browser (LiteRT.js).")
@click.option("--output", "-o", type=click.Path(),
              help="The file (.tflite, .onnx) or, for saved_model, the folder to write "
                   "(default: RUN_DIR/export/generator.tflite, generator.onnx, saved_model "
                   "or web; NAME-export/... for --preset).")
@click.option("--quantize", type=click.Choice(["float16", "dynamic-int8", "int8"]), default=None,
              help="LiteRT and web only: float16 halves the file; int8 (LiteRT only) makes "
                   "it about a quarter and faster; dynamic-int8 is as small but slow on "
                   "CPU. Default: float32.")
@click.option("--signature", default="both", show_default=True,
              type=click.Choice(["both", "waveform", "spectrogram"]),
              help="waveform: noise -> audio (Griffin-Lim inside); spectrogram: noise -> image.")
@click.option("--griffin-lim-iters", type=click.IntRange(min=0), default=None,
              help="Griffin-Lim iterations inside the waveform graph (default: the run's config).")
@click.option("--calibration", type=click.Path(exists=True, dir_okay=False),
              help="int8 only: a .npy file of noise [N, latent_dim] to calibrate on "
                   "(default: 128 vectors drawn from the latent distribution).")
@click.option("--initial-phase", type=click.Choice(["lock", "random", "zero"]), default=None,
              help="Griffin-Lim's starting phase inside the graph (default: the run's "
                   "spectrogram.phase_init, as generate uses; pghi is exported as lock).")
@_quiet_option
@_json_option
@_friendly_errors
def export_command(run_dir, preset, format_, output, quantize, signature, griffin_lim_iters,
                   calibration, initial_phase, quiet, as_json):
    """Export a run's generator (or a pretrained preset's) for servers, phones and
    browsers: LiteRT, SavedModel, ONNX, or a web page.

    `keras-soundgan export --preset drums --format web` gives a drum machine in the
    browser with no training.

    The waveform signature turns noise (and, for a conditional run, a class label) into
    audio inside the file, its peak limited to 1; a JSON sidecar (LiteRT, ONNX) or
    asset (SavedModel) holds the sample rate, the noise to feed and the class names.
    See docs/export.md and docs/web.md.
    """
    from keras_soundgan.export import export_model, read_metadata, sidecar_path

    if (run_dir is None) == (preset is None):
        raise click.UsageError("give a RUN_DIR or --preset NAME, one of the two")
    if output is None:
        name = {"litert": "generator.tflite", "onnx": "generator.onnx",
                "saved_model": "saved_model", "web": "web"}[format_]
        output = (os.path.join(run_dir, "export", name) if run_dir else os.path.join(
            f"{os.path.basename(os.path.normpath(preset))}-export", name))
    start = time.perf_counter()
    source = run_dir
    if preset is not None:
        from keras_soundgan.models.soundgan import SoundGAN

        source = SoundGAN.from_preset(preset)
    with _progress(quiet, as_json) as progress:
        path = export_model(source, output, format_, quantize=quantize, signature=signature,
                            calibration=calibration, griffin_lim_iters=griffin_lim_iters,
                            initial_phase=initial_phase, progress=progress)
    meta = read_metadata(path)
    size = (sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
            if path.is_dir() else path.stat().st_size)
    if as_json:
        _print_json({"path": path, "format": format_, "quantize": quantize, "bytes": size,
                     "seconds": round(time.perf_counter() - start, 1),
                     "metadata_file": None if path.is_dir() else sidecar_path(path),
                     "metadata": meta})
        return
    if quiet:
        return
    click.echo(f"Wrote {path} ({size / 1e6:.2f} MB, {format_}"
               f"{', ' + quantize if quantize else ''}) in {time.perf_counter() - start:.1f} s")
    click.echo(f"  signatures: {', '.join(meta['signatures'])}")
    click.echo(f"  input z: {meta['latent_dim']} values, {meta['latent_description']}")
    click.echo(f"  output: {meta['slice_length']} samples at {meta['sample_rate']} Hz"
               f" ({meta['griffin_lim']['iterations']} Griffin-Lim iterations)")
    if meta["class_names"]:
        label = f" (input label 0 to {meta['num_classes'] - 1})" if meta["num_classes"] else ""
        click.echo(f"  classes: {', '.join(meta['class_names'])}{label}")
    if format_ == "web":
        click.echo(f"  serve it: cd {path} && python -m http.server, then open "
                   "http://localhost:8000")
    elif not path.is_dir():
        click.echo(f"  metadata: {sidecar_path(path)}")


@main.command(short_help="Score a run's sounds against real held-out recordings.")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("data_dir", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--held-out", "held_out", type=click.Path(exists=True, file_okay=False),
              help="Real held-out examples (the same class sub-folders): the judge then "
                   "trains on all of the training data, and these are the real row.")
@click.option("-n", "num", type=click.IntRange(min=10), default=None,
              help="Sounds to generate and score (default: as many as held-out real ones, "
                   "at least 100).")
@click.option("--draws", type=click.IntRange(min=1), default=10, show_default=True,
              help="Random subsets, each as large as the held-out set, whose scores are "
                   "averaged when more sounds are generated than held out.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seeds the generated noise, the held-out split, the draws and the judge.")
@click.option("--judges", type=click.Choice(["auto", "all", "none"]), default="auto",
              show_default=True,
              help="Judges trained elsewhere, beside the one trained here (pip install "
                   "\"keras-soundgan[judges]\"): CREPE where class names are pitches; a "
                   "speech recogniser (pocketsphinx) where they are dictionary words. "
                   "auto: words only when the recogniser hears the real recordings well "
                   "above chance (drum names such as kick and tom are words too); all: "
                   "wherever the names are dictionary words; none: neither.")
@click.option("--output", "-o", type=click.Path(dir_okay=False),
              help="Also write the scores and how they were made to this JSON file.")
@_quiet_option
@_json_option
@_friendly_errors
def evaluate(run_dir, data_dir, held_out, num, draws, seed, judges, output, quiet, as_json):
    """Score a run's sounds with a judge trained on the real data, and judges that were
    not.

    Prints, for real held-out data, the trained generator and an untrained one: the
    Inception score (higher is better, at most the number of classes), the Frechet
    distance of the judge's embeddings to the real training data and NDB/K (lower is
    better), label accuracy for a conditional run, and pitch accuracy (librosa.pyin)
    where the class names are pitches (C4, A#3, 60). Each score of a generator is also
    given divided by real held-out data's ("/ real"): the real-to-real Frechet
    distance is the floor of the distances, the rest are ceilings. Every set is scored
    with as many sounds as the held-out set has. DATA_DIR defaults to the data the run
    was trained on.

    With the judges extra installed, a second table gives the accuracy of judges
    trained elsewhere: CREPE's pitch where the class names are pitches, and for spoken
    words how often pocketsphinx hears the word asked for, with a grammar of the class
    names and with its open vocabulary (a homophone counts). They also hear the real
    held-out recordings themselves, "real (recordings)", and the generated rows' "/
    real" is against those; "real (held out)" is the held-out spectrograms through the
    run's inverse, as generated sounds are made.
    """
    import json

    from keras_soundgan.evaluation import evaluate_run

    say = functools.partial(click.echo, err=True) if as_json else _say(quiet)
    with _progress(quiet, as_json) as progress:
        results = evaluate_run(run_dir, data_dir, num_generated=num, seed=seed, log=say,
                               held_out=held_out, draws=draws, judges=judges,
                               progress=progress)
    plain = {k: (v.as_dict() if hasattr(v, "as_dict") else v) for k, v in results.items()}
    if output:
        with open(output, "w") as f:
            json.dump(plain, f, indent=2)
            f.write("\n")
    if as_json:
        _print_json(plain)
        return
    scored = [(k, v) for k, v in results.items() if hasattr(v, "as_dict")]
    rows = [(k, v) for k, v in scored if v.inception_score is not None]
    accuracy = any(s.label_accuracy is not None for name, s in rows if name != "real (held out)")
    pitch = any(s.pitch_accuracy is not None for _, s in rows)

    def ratio(value):
        return f"{'':7s}" if value is None else f"{value:7.2f}"

    click.echo(f"{'':16s} {'Inception score':>15s} {'/ real':>7s} {'Frechet dist.':>13s} "
               f"{'/ real':>7s} {'NDB/K':>6s}"
               + (f" {'label accuracy':>14s} {'/ real':>7s}" if accuracy else "")
               + (f" {'pitch accuracy':>14s} {'/ real':>7s}" if pitch else ""))
    for name, s in rows:
        line = (f"{name:16s} {s.inception_score:15.3f} {ratio(s.inception_score_ratio)} "
                f"{s.frechet_distance:13.3f} {ratio(s.frechet_distance_ratio)} {s.ndb_k:6.2f}")
        if accuracy:
            line += (f" {s.label_accuracy:14.1%} {ratio(s.label_accuracy_ratio)}"
                     if s.label_accuracy is not None else f" {'':14s} {'':7s}")
        if pitch:
            line += (f" {s.pitch_accuracy:14.1%} {ratio(s.pitch_accuracy_ratio)}"
                     if s.pitch_accuracy is not None else "")
        click.echo(line.rstrip())
    real = results["real (held out)"]
    click.echo(f"({len(results['classes'])} classes; {results['num_generated']} sounds "
               f"generated; Inception score, Frechet distance and NDB/K from "
               f"{results['sample_size']} sounds a set"
               + (f", the mean of {results['draws']} draws" if results["draws"] > 1 else "")
               + "; the real row is the ceiling, and its Frechet distance, real training "
               "data against real held-out data, the floor)")
    click.echo(f"Real held-out data: {results['held_out']}; the judge hears its true class "
               f"{real.label_accuracy:.1%} of the time")
    for name, s in rows:
        if s.per_class_accuracy and name != "untrained":
            click.echo(f"  {name} by class: " + ", ".join(
                f"{k} {v:.0%}" for k, v in s.per_class_accuracy.items()))
    _print_independent_judges(scored, results.get("recordings"))


# The independent judges' columns: (Scores field, header).
_JUDGE_COLUMNS = (("crepe_pitch_accuracy", "CREPE pitch"), ("word_accuracy", "words"),
                  ("open_word_accuracy", "open words"))


def _print_independent_judges(rows, recordings):
    """The table of the judges trained elsewhere, where any row has their scores."""
    columns = [(field, title) for field, title in _JUDGE_COLUMNS
               if any(getattr(s, field) is not None for _, s in rows)]
    if not columns:
        return
    anchor = "real (recordings)" if any(n == "real (recordings)" for n, _ in rows) \
        else "real (held out)"
    click.echo(f"Judges trained elsewhere (not on this data); \"/ real\" is against "
               f"{anchor}:")
    click.echo(f"{'':17s}" + "".join(f" {title:>11s} {'/ real':>7s}" for _, title in columns))
    for name, s in rows:
        line = f"{name:17s}"
        for field, _ in columns:
            value, ratio = getattr(s, field), getattr(s, f"{field}_ratio")
            line += f" {'':11s}" if value is None else f" {value:11.1%}"
            line += f" {'':7s}" if ratio is None else f" {ratio:7.2f}"
        click.echo(line.rstrip())
    if recordings:
        click.echo(f"  real (recordings): {recordings}")
    click.echo("  real (held out): the held-out spectrograms through the run's inverse, as "
               "generated sounds are made"
               + ("; words: with a grammar of the class names, open words: with the "
                  "recogniser's open vocabulary (a homophone counts)"
                  if any(f == "word_accuracy" for f, _ in columns) else ""))


@main.command(short_help="List the named configurations; which ship trained.")
@_json_option
def presets(as_json):
    """List the named configurations (and which ship trained: generate --preset)."""
    from keras_soundgan.pretrained import list_pretrained

    trained = list_pretrained()
    if as_json:
        _print_json({name: {"summary": summary, "pretrained": name in trained}
                     for name, summary in PRESETS.items()})
        return
    for name, summary in PRESETS.items():
        click.echo(f"{name:8s} {summary}" + ("  [pretrained]" if name in trained else ""))


@main.command(short_help="List the run folders: preset, epochs, classes, state.")
@click.argument("root", default="runs", required=False,
                type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print them as JSON instead.")
@_friendly_errors
def runs(root, as_json):
    """List the run folders under ROOT (default: runs/), oldest first: preset, epochs,
    classes and state (complete, interrupted: resume it, not started, damaged: what
    is wrong). Nothing is loaded, so it answers at once.

    `keras-soundgan train --resume latest` continues the last one.
    """
    import json

    from keras_soundgan.run_folder import list_runs

    found = list_runs(root)
    if as_json:
        click.echo(json.dumps([summary.as_dict() for summary in found], indent=2))
        return
    if not found:
        click.echo(f"No run folders in {root}/ (keras-soundgan train writes them there).")
        return
    rows = [(s.path.name, s.preset or "?", str(s.epochs),
             (", ".join(s.classes) if len(s.classes) <= 6
              else f"{len(s.classes)}: {', '.join(s.classes[:3])}, ...") or "-",
             s.state + (f": {s.problem}" if s.problem else ""))
            for s in found]
    header = ("run", "preset", "epochs", "classes", "state")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[4])


if __name__ == "__main__":  # pragma: no cover
    main()
