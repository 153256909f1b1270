"""The typed IfcOpenShell calls answer as IfcOpenShell does."""

from __future__ import annotations

import ifcopenshell
import ifcopenshell.ifcopenshell_wrapper

from twinsync.bim.ifc import class_of, in_memory_log, is_a, max_severity


def test_is_a_counts_subtypes_and_class_of_names_the_class() -> None:
    model = ifcopenshell.file(schema="IFC4")
    wall = model.createIfcWall()
    assert is_a(wall, "IfcWall") is True
    assert is_a(wall, "IfcElement") is True
    assert is_a(wall, "IfcSlab") is False
    assert class_of(wall) == "IfcWall"


def test_an_in_memory_log_of_a_clean_parse_holds_no_error() -> None:
    log = in_memory_log()
    assert max_severity(log) < ifcopenshell.ifcopenshell_wrapper.logger.LOG_ERROR
    assert log.log_messages() == ()
