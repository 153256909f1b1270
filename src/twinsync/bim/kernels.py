"""Which geometry kernel tessellates an element: the fast one only where it is known right.

IfcOpenShell 0.9 bundles several kernels. ``manifold`` is three to eight times faster than
``opencascade`` on extrusions and meshes, but on the shapes of real models it is wrong or
fails (each checked against OpenCASCADE and CGAL with ``twinsync.bim.shapes``):

- IfcBooleanClippingResult (an IfcHalfSpaceSolid or IfcPolygonalBoundedHalfSpace): the
  clip is ignored, a wall under a pitched roof stays as tall as the ridge;
- IfcSweptDiskSolid, IfcRevolvedAreaSolid, extrusions of circle profiles: it fails;
- IfcFaceBasedSurfaceModel / IfcShellBasedSurfaceModel, often as the IfcMappedItem of a
  furniture type (Revit): it can take the process down with a segmentation fault.

So the choice is an allow-list, not a deny-list: the fast kernel gets an element only if
every item of its body (through mapped items, and the bodies of the openings voiding it)
is one it is known to get right, which ``choose_kernel`` decides by inspecting them.
Anything else goes to OpenCASCADE, the exact B-rep kernel, with the class that sent it
there as the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import ifcopenshell
import ifcopenshell.geom

from .ifc import class_of

EXACT = "opencascade"
# Kernels bundled with IfcOpenShell 0.9 wheels; which ones work is asked at run time.
KERNELS = ("manifold", "opencascade", "cgal-simple", "cgal")
DEFAULT_KERNEL = "manifold"

# Items the fast kernels tessellate as OpenCASCADE does (exact class names: a subtype such
# as IfcExtrudedAreaSolidTapered or IfcRoundedRectangleProfileDef is not vouched for).
_FAST_ITEMS = frozenset({"IfcExtrudedAreaSolid", "IfcFacetedBrep", "IfcPolygonalFaceSet",
                         "IfcTriangulatedFaceSet"})
_STRAIGHT_PROFILES = frozenset({"IfcRectangleProfileDef", "IfcArbitraryClosedProfileDef",
                                "IfcArbitraryProfileDefWithVoids"})
_STRAIGHT_CURVES = frozenset({"IfcPolyline", "IfcIndexedPolyCurve"})
_BODY_IDENTIFIERS = ("Body", "Facetation")


@dataclass(frozen=True, slots=True)
class KernelChoice:
    """The kernel for one element and, when it is not the one asked for, why."""

    kernel: str
    reason: str | None = None  # the IFC class (or rule) that ruled the fast kernel out


def available_kernels() -> list[str]:
    """The geometry kernels this IfcOpenShell build has."""
    return [k for k in KERNELS if ifcopenshell.geom.has_geometry_library(k)]


def check_kernel(kernel: str) -> str:
    """``kernel`` if this build has it, else ValueError naming the ones it has."""
    if kernel not in available_kernels():
        raise ValueError(f"geometry kernel {kernel!r} is not one of {available_kernels()}")
    return kernel


def choose_kernel(element: ifcopenshell.entity_instance, preferred: str) -> KernelChoice:
    """The kernel for ``element`` when ``preferred`` is the one configured.

    OpenCASCADE is always right; a fast kernel only for a body it is known to get right.
    """
    if preferred == EXACT:
        return KernelChoice(EXACT)
    try:
        items = list(body_items(element))
        for opening in _openings(element):
            items += body_items(opening)
    except (AttributeError, TypeError):
        # A body we cannot read through (a mapped item without its source) is not one
        # known to be right; OpenCASCADE will say what is wrong with it, if anything.
        return KernelChoice(EXACT, "unreadable body")
    for item in items:
        reason = _unproven(item)
        if reason is not None:
            return KernelChoice(EXACT, reason)
    return KernelChoice(preferred)


def body_items(product: ifcopenshell.entity_instance) -> list[ifcopenshell.entity_instance]:
    """The representation items of ``product``'s body, mapped items expanded."""
    shape = getattr(product, "Representation", None)
    if shape is None:
        return []
    items: list[ifcopenshell.entity_instance] = []
    for representation in shape.Representations:
        if representation.RepresentationIdentifier in _BODY_IDENTIFIERS:
            items += _expand(representation.Items)
    return items


def _expand(items: tuple[ifcopenshell.entity_instance, ...],
            depth: int = 0) -> list[ifcopenshell.entity_instance]:
    expanded: list[ifcopenshell.entity_instance] = []
    for item in items:
        if class_of(item) == "IfcMappedItem" and depth < 8:  # a cycle would be a bad file
            expanded += _expand(item.MappingSource.MappedRepresentation.Items, depth + 1)
        else:
            expanded.append(item)
    return expanded


def _openings(element: ifcopenshell.entity_instance) -> list[ifcopenshell.entity_instance]:
    return [rel.RelatedOpeningElement for rel in getattr(element, "HasOpenings", ()) or ()]


def _unproven(item: ifcopenshell.entity_instance) -> str | None:
    """None if the fast kernel is known right for ``item``, else the class that says not."""
    item_class = class_of(item)
    if item_class not in _FAST_ITEMS:
        return item_class
    if item_class == "IfcExtrudedAreaSolid":
        return _curved_profile(item.SweptArea)
    return None


def _curved_profile(profile: ifcopenshell.entity_instance) -> str | None:
    profile_class = class_of(profile)
    if profile_class not in _STRAIGHT_PROFILES:
        return profile_class
    if profile_class == "IfcRectangleProfileDef":
        return None
    curves = [profile.OuterCurve, *getattr(profile, "InnerCurves", ())]
    for curve in curves:
        curve_class = class_of(curve)
        if curve_class not in _STRAIGHT_CURVES:
            return curve_class
        if curve_class == "IfcIndexedPolyCurve" and any(
                class_of(segment) == "IfcArcIndex" for segment in curve.Segments or ()):
            return "IfcArcIndex"
    return None
