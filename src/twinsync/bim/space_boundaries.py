"""Which spaces of a model neighbour which, read from its space boundaries.

An IFC model says what bounds a space with ``IfcRelSpaceBoundary``: the space, the
building element on its boundary (a wall, a slab, a window), whether the boundary is
physical or virtual, and whether the other side is another space (``INTERNAL``) or the
outdoors, the ground or water (``EXTERNAL``…). A thermal zone exchanges heat with the
spaces beside it (``physics/neighbour_zone.py``); this module finds them:

- a **second-level** boundary (IFC4's ``IfcRelSpaceBoundary2ndLevel``, written by energy
  analysis exports) names the boundary on the other side of the same element
  (``CorrespondingBoundary``): its space is a neighbour, exactly; one that names none
  (a facade's) joins nothing;
- otherwise two spaces are neighbours when an internal boundary of each is the **same
  wall** (``IfcWall``, ``IfcCurtainWall``) or the same virtual element, **and no other
  space** is bounded by it: a partition between two offices. A wall that bounds more
  spaces (a corridor's long wall, with offices in a row along one side) or a slab (every
  room of one storey above every room of the next) says nothing without the boundary's
  geometry, which first-level boundaries leave to each tool; such pairs are not guessed.

Boundaries that name no space, or no element, are passed over: a model from another tool
may hold half-written ones, and the import must not fail for what it cannot use.
"""

from __future__ import annotations

from collections import defaultdict

import ifcopenshell

from .ifc import is_a

#: Building elements an internal boundary may share with one other space.
SHARED = ("IfcWall", "IfcCurtainWall", "IfcVirtualElement")
#: What the other side of an ``INTERNAL`` boundary is not.
_OUTSIDE = ("EXTERNAL", "EXTERNAL_EARTH", "EXTERNAL_WATER", "EXTERNAL_FIRE")


def adjacent_spaces(model: ifcopenshell.file) -> dict[str, list[str]]:
    """Each space's neighbouring spaces (GlobalIds, sorted), for the spaces that have one."""
    pairs: set[tuple[str, str]] = set()
    by_element: dict[int, set[str]] = defaultdict(set)
    for boundary in model.by_type("IfcRelSpaceBoundary"):
        space = boundary.RelatingSpace
        if space is None or not is_a(space, "IfcSpace"):
            continue
        if is_a(boundary, "IfcRelSpaceBoundary2ndLevel"):
            # Paired by the boundary that names its counterpart (the other one of the pair
            # is named back only by the inverse); never guessed from the element.
            other_side = boundary.CorrespondingBoundary
            other = None if other_side is None else other_side.RelatingSpace
            if other is not None and is_a(other, "IfcSpace") and other != space:
                pairs.add(_pair(space.GlobalId, other.GlobalId))
            continue
        if boundary.InternalOrExternalBoundary in _OUTSIDE:
            continue
        element = boundary.RelatedBuildingElement
        if element is None or not any(is_a(element, kind) for kind in SHARED):
            continue
        by_element[element.id()].add(str(space.GlobalId))
    for spaces in by_element.values():
        if len(spaces) == 2:
            pairs.add(_pair(*spaces))
    neighbours: dict[str, list[str]] = defaultdict(list)
    for first, second in sorted(pairs):
        neighbours[first].append(second)
        neighbours[second].append(first)
    return {space: sorted(found) for space, found in neighbours.items()}


def _pair(first: str, second: str) -> tuple[str, str]:
    return (first, second) if first < second else (second, first)


__all__ = ["SHARED", "adjacent_spaces"]
