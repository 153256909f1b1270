"""IFC models in the twin: generate, read, import by GlobalId, and export GLB for the viewer.

::

    contents = read_model("building.ifc")          # everything, or ModelImportError
    result = import_ifc(twin, contents, time=now)  # events, rows to save, report
    glb = glb_for("building.ifc", cache_dir)       # exported once per revision
"""

from .apply import ImportPlan, ImportResult, apply_import, import_ifc, plan_import
from .generate import GeneratedModel, generate_building, global_id
from .glb import (
    DEFAULT_KERNEL,
    GlbInfo,
    available_kernels,
    export_glb,
    glb_for,
    glb_node_names,
)
from .importer import ModelContents, read_model, revision_of
from .schema import SCHEMAS

__all__ = [
    "DEFAULT_KERNEL",
    "SCHEMAS",
    "GeneratedModel",
    "GlbInfo",
    "ImportPlan",
    "ImportResult",
    "ModelContents",
    "apply_import",
    "available_kernels",
    "export_glb",
    "generate_building",
    "glb_for",
    "glb_node_names",
    "global_id",
    "import_ifc",
    "plan_import",
    "read_model",
    "revision_of",
]
