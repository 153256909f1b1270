"""Units: a unit that is not a string, too long or unknown is a UnitError with a reason,
never a TypeError or an AttributeError from inside the cache or pint."""

from __future__ import annotations

from typing import Any

import pytest

from twinsync.errors import UnitError
from twinsync.units import MAX_UNIT_LENGTH, canonical, converter


@pytest.mark.parametrize("unit", [123, ["degC"], {"u": "degC"}, 1.5])
def test_a_unit_that_is_not_a_string_is_refused_with_a_reason(unit: Any) -> None:
    with pytest.raises(UnitError) as refused:
        canonical(unit)
    assert refused.value.reason == "bad_unit"
    with pytest.raises(UnitError):
        converter(unit, "degC")
    with pytest.raises(UnitError):
        converter("degC", unit)


def test_a_unit_longer_than_any_known_one_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(UnitError) as refused:
        canonical("m" * (MAX_UNIT_LENGTH + 1))
    assert refused.value.reason == "unknown_unit"
    assert len(str(refused.value)) < 200


def test_no_unit_and_site_spellings_convert() -> None:
    assert converter(None, "").scale == 1.0  # type: ignore[arg-type]
    assert round(converter("°F", "degC").apply(212.0), 6) == 100.0
