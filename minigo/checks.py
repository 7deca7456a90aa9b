"""The checks every config makes of its fields, in one place, each failing with one line that names the field.

``integer(name, value, low, high)`` is an ``int`` (never a ``bool``, which Python counts as one) from ``low`` (to
``high``); ``finite(name, value)`` a finite real number. Both return the value, so a ``__post_init__`` reads as a
list of its fields' rules.
"""

from __future__ import annotations

import math

__all__ = ["finite", "integer"]


def integer(name: str, value: object, low: int, high: int | None = None) -> int:
    """``value`` if it is an integer from ``low`` to ``high`` (no upper end when None), else a ValueError
    ``"NAME VALUE is not an integer from LOW to HIGH"`` (or ``">= LOW"``)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        expected = f"from {low} to {high}" if high is not None else f">= {low}"
        raise ValueError(f"{name} {value!r} is not an integer {expected}")
    return value


def finite(name: str, value: object) -> float:
    """``value`` as a float if it is a finite real number (int or float, not bool), else a ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} {value!r} is not a finite number")
    return float(value)
