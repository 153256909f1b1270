"""The archive every per-sensor snapshot is saved in refuses what it did not write."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from twinsync.archive import ArchiveUnreadable, layout, pack, unpack


def test_a_header_that_is_not_an_object_is_refused_like_a_damaged_blob() -> None:
    buffer = io.BytesIO()
    np.savez(buffer, __header__=np.frombuffer(json.dumps([1, 2]).encode(), dtype=np.uint8))
    with pytest.raises(ArchiveUnreadable, match="not an object"):
        unpack(buffer.getvalue())
    with pytest.raises(ArchiveUnreadable):
        unpack(pack({"format": 1}, {"n": np.arange(3)})[:-10])


def test_the_layout_survives_the_header_s_trip_through_json() -> None:
    arrays = {"n": np.arange(3), "ring": np.zeros((3, 4), dtype=np.float32)}
    header, _ = unpack(pack({"columns": layout(arrays)}, arrays))
    assert header["columns"] == layout(arrays) == {"n": ["<i8", []], "ring": ["<f4", [4]]}
