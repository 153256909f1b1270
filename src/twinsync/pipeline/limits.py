"""Bounds on one reading that admission enforces, and short quotes of what was sent.

A value at or beyond ``VALUE_LIMIT`` in magnitude is refused (``value_out_of_range``):
no sensor measures it, and squaring it in the running statistics overflows (``1e308``
did). Sequence numbers must fit the int64 column they are stored in.

Details of dead letters quote the offending field with ``short_repr``: a 20 MB id or a
10,000-digit number is named by its beginning and its size, never echoed whole.
"""

from __future__ import annotations

import reprlib
from typing import Any

VALUE_LIMIT = 1e15
"""Readings with ``abs(value) >= VALUE_LIMIT`` are refused as ``value_out_of_range``."""
MAX_SEQ = 2**63 - 1
"""The largest sequence number: the stored column is int64."""

_QUOTE_CHARACTERS = 80
_quote = reprlib.Repr()
_quote.maxlevel = 2
_quote.maxtuple = _quote.maxlist = _quote.maxdict = _quote.maxset = 4
_quote.maxstring = _quote.maxother = _QUOTE_CHARACTERS
_quote.maxlong = 40


def short_repr(value: Any) -> str:
    """``repr(value)``, cut to about 80 characters, with the size of what was cut.

    >>> quote = short_repr("x" * 1000)
    >>> len(quote) < 110, quote.endswith("' (1000 characters)")
    (True, True)
    >>> short_repr(10**5000)
    'an integer of 16610 bits'
    """
    kind = type(value)
    if kind is int and value.bit_length() > 128:
        # repr() of an int past 4,300 digits raises; the size is what matters anyway.
        return f"an integer of {value.bit_length()} bits"
    try:
        text = _quote.repr(value)
    except ValueError:  # a huge int nested somewhere
        return f"a {kind.__name__} too large to quote"
    if kind is str and len(value) > _QUOTE_CHARACTERS:
        text += f" ({len(value)} characters)"
    return text
