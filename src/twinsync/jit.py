"""Compilation of the per-reading loops (numba), typed for mypy.

State that is sequential per sensor (health rings, EWMAs, CUSUMs; hash probes) has a loop
over readings as its natural form. NumPy cannot run such a loop fast; numba compiles it.
``cache=True`` keeps the machine code on disk, so later processes (tests, the CLI, the
service) load it instead of compiling again.

Numba checks a cached function against its own file only: a kernel whose helper in another
module changed (``kernel.fold`` calls into ``robust``, ``peers``, ``states``) would load the
machine code of the old helper. So the cache lives in a folder named after a digest of the
whole package's source (``~/.cache/twinsync/numba/<digest>``, under ``NUMBA_CACHE_DIR``
or ``XDG_CACHE_HOME`` when set): any change to the code compiles afresh, once. Folders of
other sources are left alone (they may belong to another installation or checkout that is
running now); only those unused for ``STALE_CACHE_DAYS`` are removed.

With ``NUMBA_DISABLE_JIT=1`` every kernel runs as plain Python (slowly, for debugging
and as a check that the code does not depend on the compiler); the prefetch hint is then
a no-op.
"""

from __future__ import annotations

import contextlib
import hashlib
import operator
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic
from numpy.typing import NDArray

from .records import LINE

Function = TypeVar("Function", bound=Callable[..., Any])


def cache_folder(package: Path = Path(__file__).parent) -> Path:
    """Where compiled code of this very source is kept (see the module's docstring)."""
    digest = hashlib.sha256()
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode())
        digest.update(source.read_bytes())
    base = (Path(os.environ["NUMBA_CACHE_DIR"]) if os.environ.get("NUMBA_CACHE_DIR")
            else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "twinsync")
    return base / "numba" / digest.hexdigest()[:16]


#: A cache folder no process has used for this long is of code that is gone.
STALE_CACHE_DAYS = 14


def _use_cache_folder() -> None:
    folder = cache_folder()
    folder.mkdir(parents=True, exist_ok=True)
    os.utime(folder)  # in use: the mark the pruning below goes by
    cutoff = time.time() - STALE_CACHE_DAYS * 86_400
    for other in folder.parent.iterdir():
        with contextlib.suppress(OSError):
            if other != folder and other.stat().st_mtime < cutoff:
                shutil.rmtree(other, ignore_errors=True)
    # Read when each compiled function is defined. (numba.config sets its attributes from
    # the environment at import, so its stubs know none of them.)
    numba.config.CACHE_DIR = str(folder)  # type: ignore[attr-defined]


_use_cache_folder()


#: Every compiled function, in the order they were defined: what a check that the reading
#: path compiles nothing more after the start-up's rehearsal counts (``service/rehearsal``).
COMPILED: list[Any] = []


def _registered(dispatcher: Any) -> Any:
    COMPILED.append(dispatcher)
    return dispatcher


def compiled(function: Function) -> Function:
    """``numba.njit(cache=True, nogil=True)`` with the function's own signature kept for
    mypy.

    ``nogil``: compiled code touches no Python object, so it lets other threads run. The
    seal's summary (tens of ms over a large fleet) runs in the sealing thread; holding the
    GIL, it stopped ingest for that long, and the health fold in turn held up the seal."""
    return cast(Function, _registered(numba.njit(cache=True, nogil=True)(function)))


class Direct:
    """A compiled function called past numba's typing of its arguments, for a call site
    whose argument types are fixed but for a few tuples it names (``keyed``).

    Numba types every argument at every call to pick the machine code: for a tuple of
    tens of column views and one of some sixty knobs, as the health fold takes, that cost
    more than folding a batch of two readings (measured: 51-62 µs a call through the
    dispatcher, 9-11 µs through the compiled overload, on the 2-core machine under load;
    the health replay makes a million such calls). ``call(keyed, *args)`` calls the
    overload compiled for the last call's types while the ``keyed`` objects are the very
    ones of that call (by identity: they are built once and never changed, and kept
    alive here so that no other object takes their id); otherwise it goes through the
    dispatcher, which compiles if need be, and arms the overload of the new types.

    The caller guarantees that every other argument is always of one type: arrays it made
    itself with a fixed dtype and number of dimensions, contiguous, and scalars of one
    kind. With ``NUMBA_DISABLE_JIT=1`` it calls the plain function.
    """

    def __init__(self, function: Callable[..., Any]) -> None:
        self._function = function
        self._keyed: tuple[Any, ...] = ()
        self._entry: Callable[..., Any] | None = None

    def call(self, keyed: tuple[Any, ...], *args: Any) -> Any:
        entry = self._entry
        # ``map(operator.is_)``: a generator over fourteen pairs cost 2 µs a call, this 0.8.
        if entry is not None and len(keyed) == len(self._keyed) and all(
                map(operator.is_, keyed, self._keyed)):
            return entry(*args)
        function = self._function
        result = function(*args)
        if numba.config.DISABLE_JIT:  # type: ignore[attr-defined]
            return result
        dispatcher: Any = function
        signature = tuple(dispatcher.typeof_pyval(arg) for arg in args)
        compiled_for = dispatcher.overloads.get(signature)
        if compiled_for is not None:
            self._keyed = keyed
            self._entry = compiled_for.entry_point
        return result


def record_rows(array: NDArray[np.void]) -> NDArray[np.void]:
    """An array of records as the compiled code reads its rows (``array[r].field``, read
    and written in place). Compiled, a plain structured array does that; as plain Python
    (``NUMBA_DISABLE_JIT=1``) only NumPy's record array gives its rows attributes."""
    if numba.config.DISABLE_JIT:  # type: ignore[attr-defined]
        return array.view(np.recarray)
    return array


def compiled_inline(function: Function) -> Function:
    """``compiled``, and inlined into its compiled callers by numba itself: for a step the
    health fold takes once per reading (a check), so that nothing stands between the fold
    and the check's reads of the record. Keep such functions' arguments to records, scalars
    and few arrays: an array or a tuple of arrays handed to an inlined function is counted
    (referenced and released) at each call, which a fold that handed a check a tuple of a
    few dozen column views paid in hundreds of nanoseconds a reading."""
    return cast(Function, _registered(
        numba.njit(cache=True, nogil=True, inline="always")(function)))


@intrinsic
def _prefetch_intrinsic(typingctx: Any, address: Any) -> Any:
    """LLVM's ``prefetch`` (for reading, keep in all cache levels) of one address."""
    signature = types.void(types.intp)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        function = cgutils.get_or_insert_function(  # type: ignore[no-untyped-call]
            builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]),
            "llvm.prefetch.p0")
        builder.call(function, [builder.inttoptr(args[0], byte_pointer), ir.Constant(i32, 0),
                                ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return signature, codegen


def _no_prefetch(address: int) -> None:
    """The hint as plain Python: nothing to do."""


# numba's intrinsic takes the address only when called from compiled code; typed for that.
_prefetch = (_no_prefetch if numba.config.DISABLE_JIT  # type: ignore[attr-defined]
             else cast(Callable[[int], None], _prefetch_intrinsic))


@compiled
def prefetch_row(column: Any, row: int) -> None:
    """Ask the CPU to start loading row ``row`` of a record table, given the view of a field
    in the record's first cache line (see ``twinsync.records``), while the caller still
    works on an earlier reading.

    A compiled loop over readings waits for each reading's state to come from memory only
    when it reaches it; with a large fleet that state is rarely in cache. A prefetch a few
    readings ahead overlaps that wait with the work on the readings before."""
    stride = column.strides[0]
    # Records start on a cache line and span whole lines (``twinsync.records``): from the
    # line of a first-line field, ``stride`` bytes are exactly the row's lines.
    start = column.ctypes.data + row * stride
    start -= start % LINE
    for offset in range(0, stride, LINE):
        _prefetch(start + offset)


#: How many readings ahead a light pass (a few dozen instructions a reading) asks for a
#: record: far enough that the load has arrived when the pass gets there.
LIGHT_PASS_AHEAD = 8


@compiled
def prefetch_item(column: Any, row: int) -> None:
    """Ask the CPU to start loading the cache line of ``column[row]``."""
    _prefetch(column.ctypes.data + row * column.strides[0])


@compiled
def prefetch_cell(column: Any, row: int, slot: int) -> None:
    """Ask the CPU to start loading the cache line of ``column[row, slot]``."""
    _prefetch(column.ctypes.data + row * column.strides[0] + slot * column.strides[1])
