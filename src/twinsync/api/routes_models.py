"""REST for the BIM model: upload a revision, see the current one, fetch its geometry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse

from ..errors import NotFound
from ..service import TwinService
from .access import actor
from .contract import FILE_BODY, errors
from .deps import service
from .responses import JSON
from .schemas.bim import ImportRefused, ModelImport, ModelOut
from .uploads import uploaded_file

router = APIRouter(prefix="/api", default_response_class=JSON)
Service = Annotated[TwinService, Depends(service)]
MAX_MODEL_BYTES = 512 * 1024 * 1024


@router.post("/models", status_code=201, response_model=ModelImport, openapi_extra=FILE_BODY,
             responses={200: {"model": ModelImport, "description": "The dry run's plan"},
                        **errors(409, s409=ImportRefused)})
async def post_model(request: Request, svc: Service, force: bool = False,
                     dry_run: bool = False) -> JSON:
    """Import an IFC revision (IFC2X3, IFC4, IFC4X3), sent as the raw request body or as a
    multipart form field ``file``. Answers what was added, changed and archived.

    A revision of another IfcProject than the current model's, or one that would archive
    more than ``reimport_max_archive_share`` of it, is refused with 409 (``import_refused``,
    its ``refusals`` and ``counts``) unless ``force=1``. With ``dry_run=1`` nothing changes:
    the answer (200) says what the import would do and whether it would be refused."""
    name, data = await uploaded_file(request, "model.ifc", "model", MAX_MODEL_BYTES)
    share = request.app.state.settings.reimport_max_archive_share
    if dry_run:
        plan = await svc.models.plan_bytes(data, name=name, max_archive_share=share)
        return JSON(plan, status_code=200)
    report = await svc.models.import_bytes(data, name=name, actor=actor(request), force=force,
                                           max_archive_share=share)
    return JSON(report, status_code=201)


@router.get("/model", response_model=ModelOut, responses=errors(404))
async def get_model(svc: Service) -> JSON:
    """The current revision: name, schema, counts, and its geometry (``geometry``): which
    elements have none and why, and how many each kernel drew, once the GLB is exported."""
    current = await svc.history(svc.models.current)
    if current is None:
        raise NotFound("the twin has no BIM model: import one with `twinsync import ifc FILE`")
    return JSON(current)


@router.get("/model.glb", response_class=FileResponse, responses={
    200: {"content": {"model/gltf-binary": {"schema": {"type": "string", "format": "binary"}}},
          "description": "Binary glTF"}, **errors(404)})
async def get_model_glb(svc: Service) -> FileResponse:
    """The current model's geometry as binary glTF; node names are IFC GlobalIds."""
    path = await svc.models.glb()
    return FileResponse(path, media_type="model/gltf-binary",
                        headers={"Cache-Control": "no-cache"})
