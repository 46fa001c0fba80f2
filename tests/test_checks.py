"""keras_soundgan.checks: one set of argument checks, one message shape; and the public
entry points that use it accept NumPy integers and refuse bools alike."""

import ast
from pathlib import Path

import numpy as np
import pytest

from keras_soundgan.checks import check_choice, check_integer, check_number, is_integer

PACKAGE = Path(__file__).resolve().parent.parent / "keras_soundgan"


@pytest.mark.parametrize("value", [0, 7, -3, np.int64(7), np.int32(-1), np.uint8(3)])
def test_any_integral_but_bool_is_an_integer(value):
    assert is_integer(value)
    assert type(check_integer(value, "x")) is int and check_integer(value, "x") == value


@pytest.mark.parametrize("value", [True, False, np.bool_(True), 1.0, "1", None, 2.5])
def test_bools_floats_and_strings_are_not(value):
    assert not is_integer(value)
    with pytest.raises(ValueError, match=rf"^x must be an integer, got {value!r}$"):
        check_integer(value, "x")


@pytest.mark.parametrize("kwargs, bad, message", [
    (dict(minimum=1), 0, "n must be a positive integer, got 0"),
    (dict(minimum=0), -1, "n must be an integer >= 0, got -1"),
    (dict(minimum=2), np.int64(1), "n must be an integer >= 2, got np.int64(1)"),
    (dict(maximum=5), 6, "n must be an integer <= 5, got 6"),
    (dict(minimum=1, maximum=3), 4, "n must be an integer in [1, 3], got 4"),
])
def test_integer_bounds_and_the_one_message_shape(kwargs, bad, message):
    with pytest.raises(ValueError) as info:
        check_integer(bad, "n", **kwargs)
    assert str(info.value) == message
    assert check_integer(kwargs.get("minimum", 0) or 1, "n", **kwargs) >= 1


def test_numbers_finite_bounded_and_not_bool():
    assert check_number(np.float32(0.5), "p", 0, 1) == 0.5
    assert check_number(3, "p") == 3.0
    for bad, kwargs, message in [
        (float("nan"), {}, "p must be a finite number, got nan"),
        (float("inf"), dict(minimum=0), "p must be a number >= 0, got inf"),
        (True, {}, "p must be a finite number, got True"),
        (0, dict(minimum=0, strict=True), "p must be a number > 0, got 0"),
        (1.5, dict(minimum=0, maximum=1), "p must be a number in [0, 1], got 1.5"),
        (1, dict(minimum=0, maximum=1, strict=True), "p must be a number in (0, 1), got 1"),
        ("0.5", {}, "p must be a finite number, got '0.5'"),
    ]:
        with pytest.raises(ValueError) as info:
            check_number(bad, "p", **kwargs)
        assert str(info.value) == message


def test_choices_name_every_choice():
    assert check_choice("b", "kind", ["a", "b"]) == "b"
    with pytest.raises(ValueError) as info:
        check_choice("c", "kind", ("a", "b"))
    assert str(info.value) == "kind must be one of 'a', 'b', got 'c'"


def test_numpy_integers_reach_every_entry_point_that_takes_a_count(tmp_path):
    """The issue's pair: spectrogram_dataset took an np.int64 batch size and
    SpectrogramCache.dataset refused it, both reached from the same run."""
    from keras_soundgan import SoundGAN, SoundGANConfig, spectrogram_dataset
    from keras_soundgan.callbacks import Checkpoint

    images = np.zeros((4, 32, 32, 1), np.float32)
    assert spectrogram_dataset(images, batch_size=np.int64(2)) is not None
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got True"):
        spectrogram_dataset(images, batch_size=True)
    assert Checkpoint(tmp_path, keep=np.int64(3)).keep == 3
    with pytest.raises(ValueError, match="keep must be a positive integer"):
        Checkpoint(tmp_path, keep=True)
    config = SoundGANConfig.from_preset("tiny", **{"spectrogram.slice_length": 2048,
                                                   "spectrogram.n_fft": 64,
                                                   "spectrogram.hop_length": 64})
    model = SoundGAN(config)
    assert model.generate(np.int64(2), seed=np.int64(1)).shape[0] == 2
    with pytest.raises(ValueError, match="n must be a positive integer, got False"):
        model.generate(False)


def test_no_module_checks_integers_by_hand():
    """Every integer check goes through keras_soundgan.checks: no `isinstance(x, int)`,
    `isinstance(x, (int, np.integer))` or `isinstance(x, numbers.Integral)` left in the
    package (a type test among others, as in serialising plain values, is not a check)."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "checks.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance"
                    and len(node.args) == 2):
                kinds = node.args[1]
                names = {ast.unparse(e) for e in (kinds.elts if isinstance(kinds, ast.Tuple)
                                                  else [kinds])}
                if names and names <= {"int", "np.integer", "numbers.Integral"}:
                    offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not offenders, offenders
