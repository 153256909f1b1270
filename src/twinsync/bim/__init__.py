"""IFC models in the twin: generate, read, import by GlobalId, and export GLB for the viewer.

::

    contents = read_model("building.ifc")          # everything, or ModelImportError
    result = import_ifc(twin, contents, time=now)  # events, rows to save, report
    glb = glb_for("building.ifc", cache_dir)       # exported once per revision, in workers
    read_report(glb)                               # which kernel drew what; what is missing
"""

from .apply import ImportPlan, ImportResult, apply_import, import_ifc, plan_import
from .generate import GeneratedModel, generate_building, global_id
from .glb import ExportOptions, GlbInfo, export_glb, glb_for, glb_node_names, read_report
from .importer import ModelContents, read_model, revision_of
from .kernels import DEFAULT_KERNEL, KERNELS, available_kernels, choose_kernel
from .schema import SCHEMAS
from .shapes import generate_shapes

__all__ = [
    "DEFAULT_KERNEL",
    "KERNELS",
    "SCHEMAS",
    "ExportOptions",
    "GeneratedModel",
    "GlbInfo",
    "ImportPlan",
    "ImportResult",
    "ModelContents",
    "apply_import",
    "available_kernels",
    "choose_kernel",
    "export_glb",
    "generate_building",
    "generate_shapes",
    "glb_for",
    "glb_node_names",
    "global_id",
    "import_ifc",
    "plan_import",
    "read_model",
    "read_report",
    "revision_of",
]
