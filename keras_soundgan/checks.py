"""Argument checks shared by every public entry point, with one message shape.

Every check raises ``ValueError("<name> must be <what>, got <value!r>")``, so that a
user sees the same sentence whether the value came from a config file, the command
line or a Python call, e.g. ``batch_size must be a positive integer, got 0``.

Integers are any :class:`numbers.Integral` (Python's ``int``, NumPy's ``int64``, ...)
but not ``bool``: ``True`` is an ``int`` to Python, never a count to a user. Each
check returns the value as the plain Python type, so ``np.int64(8)`` comes back as
``8``.

>>> import numpy as np
>>> check_integer(np.int64(8), "batch_size", minimum=1)
8
>>> check_integer(True, "batch_size", minimum=1)
Traceback (most recent call last):
  ...
ValueError: batch_size must be a positive integer, got True
>>> check_choice("hinge", "loss", ("hinge", "wgan-gp"))
'hinge'
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

__all__ = ["check_choice", "check_integer", "check_number", "is_integer"]


def is_integer(value: Any) -> bool:
    """Whether ``value`` is an integer to a user: any :class:`numbers.Integral`, NumPy's
    included, but not ``bool`` (NumPy's ``bool_`` is no ``Integral`` to begin with)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _fail(name: str, what: str, value: Any):
    raise ValueError(f"{name} must be {what}, got {value!r}")


def _integer_requirement(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f"an integer in [{minimum}, {maximum}]"
    if minimum == 1:
        return "a positive integer"
    if minimum is not None:
        return f"an integer >= {minimum}"
    if maximum is not None:
        return f"an integer <= {maximum}"
    return "an integer"


def check_integer(value: Any, name: str, minimum: int | None = None,
                  maximum: int | None = None) -> int:
    """``value`` as an ``int``, or ValueError naming ``name``.

    Args:
        value: the value to check.
        name: what the user calls it (an argument, a config field, an option).
        minimum: the smallest allowed value, if any (1: "a positive integer").
        maximum: the largest allowed value, if any.
    """
    if not is_integer(value) or (minimum is not None and value < minimum) or (
            maximum is not None and value > maximum):
        _fail(name, _integer_requirement(minimum, maximum), value)
    return int(value)


def check_number(value: Any, name: str, minimum: float | None = None,
                 maximum: float | None = None, *, strict: bool = False) -> float:
    """``value`` as a finite ``float``, or ValueError naming ``name``.

    Args:
        value: the value to check: any real number, not ``bool``, not NaN or infinite.
        name: what the user calls it.
        minimum, maximum: the bounds, if any; inclusive unless ``strict``.
        strict: exclusive bounds (``minimum=0, strict=True``: "a number > 0").
    """
    lower, upper = (">", "<") if strict else (">=", "<=")
    if minimum is not None and maximum is not None:
        what = (f"a number in ({minimum}, {maximum})" if strict
                else f"a number in [{minimum}, {maximum}]")
    elif minimum is not None:
        what = f"a number {lower} {minimum}"
    elif maximum is not None:
        what = f"a number {upper} {maximum}"
    else:
        what = "a finite number"
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
        _fail(name, what, value)
    if minimum is not None and (value <= minimum if strict else value < minimum):
        _fail(name, what, value)
    if maximum is not None and (value >= maximum if strict else value > maximum):
        _fail(name, what, value)
    return float(value)


def check_choice(value: Any, name: str, choices: Iterable[Any]) -> Any:
    """``value`` if it is one of ``choices``, or ValueError naming ``name`` and the
    choices (``loss must be one of 'hinge', 'wgan-gp', got 'wasserstein'``)."""
    choices = tuple(choices)
    if isinstance(value, bool) or value not in choices:
        _fail(name, "one of " + ", ".join(repr(c) for c in choices), value)
    return value
