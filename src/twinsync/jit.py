"""Compilation of the per-reading loops (numba), typed for mypy.

State that is sequential per sensor (health rings, EWMAs, CUSUMs; hash probes) has a loop
over readings as its natural form. NumPy cannot run such a loop fast; numba compiles it.
``cache=True`` keeps the machine code on disk next to the module, so later processes
(tests, the CLI, the service) load it instead of compiling again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba

Function = TypeVar("Function", bound=Callable[..., Any])


def compiled(function: Function) -> Function:
    """``numba.njit(cache=True)`` with the function's own signature kept for mypy."""
    return cast(Function, numba.njit(cache=True)(function))
