"""Named NumPy columns and a JSON header in one blob: how per-sensor state (health, the
reading counters) is saved in the store. An ``.npz`` archive read without pickle, so a
damaged or hostile blob can only fail to load, never run code.

>>> import numpy as np
>>> body = pack({"format": 1}, {"count": np.arange(3)})
>>> header, arrays = unpack(body)
>>> header, arrays["count"].tolist()
({'format': 1}, [0, 1, 2])
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import numpy as np
from numpy.typing import NDArray

_HEADER = "__header__"


class ArchiveUnreadable(ValueError):
    """The blob is not an archive of this kind (damaged, cut short, or something else)."""


def pack(header: dict[str, Any], arrays: dict[str, NDArray[Any]]) -> bytes:
    contents = dict(arrays)
    contents[_HEADER] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **contents)
    return buffer.getvalue()


def unpack(body: bytes) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
    """The header and the arrays of a ``pack``; ``ArchiveUnreadable`` for anything else,
    a header that is not a JSON object included."""
    try:
        with np.load(io.BytesIO(body), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        header = json.loads(arrays.pop(_HEADER).tobytes().decode())
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile,
            UnicodeDecodeError) as exc:
        raise ArchiveUnreadable(str(exc)) from exc
    if not isinstance(header, dict):
        raise ArchiveUnreadable("the header is not an object")
    return header, arrays


def layout(arrays: dict[str, NDArray[Any]]) -> dict[str, list[Any]]:
    """Each column's dtype and per-row shape, as a header keeps them (and JSON gives back):
    what a reader compares with the layout it expects before taking any column."""
    return {name: [array.dtype.str, list(array.shape[1:])] for name, array in arrays.items()}
