"""BIM models of the twin: import a revision, keep its file, serve its geometry.

Model files live in a folder beside the store (``models_dir``): ``<revision>.ifc`` for
every imported revision, and the GLB cache with each GLB's report (which elements have no
geometry and why, which kernel drew the others). Which revision is current is the store's
record: the newest ``model_imported`` event, which also holds the revision's IfcProject
GlobalId (``project_id``), what the next import is compared with. Reading IFC is CPU-bound
and runs in a worker thread; geometry kernels run only in worker processes (``bim.glb``),
so none can take the twin down; only applying the plan to the twin is a transaction on the
writer, and a dry run (``plan_bytes``) only reads the twin.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..bim import (
    ExportOptions,
    ImportPlan,
    ModelContents,
    apply_import,
    glb_for,
    plan_import,
    read_model,
    read_report,
)
from ..bim.apply import MAX_ARCHIVE_SHARE
from ..bim.glb import cached_glb
from ..errors import NotFound
from ..store.audit import SYSTEM, Actor, AuditEntry
from .commit import Change

if TYPE_CHECKING:
    from .twin_service import TwinService

log = logging.getLogger(__name__)

#: A dry run lists at most this many ids of each part (added, archived, …); its counts
#: are whole. Enough to recognise a wrong file, small enough to read.
DRY_RUN_IDS = 100


class ModelLibrary:
    """The IFC revisions of one twin and their geometry."""

    def __init__(self, service: TwinService, folder: Path,
                 geometry: ExportOptions | None = None) -> None:
        self.service = service
        self.folder = folder
        self.geometry = geometry or ExportOptions()
        self._glb_lock = asyncio.Lock()

    def current(self) -> dict[str, Any] | None:
        """The newest imported revision, as recorded in the event log, and its geometry."""
        for event in self.service.store.recent_events(1, kind="model_imported"):
            revision = event.data.get("revision")
            return {"revision": revision, "schema": event.data.get("schema"),
                    "name": event.data.get("name"), "imported_at": event.time,
                    "project_id": event.data.get("project_id"),
                    "counts": event.data.get("counts", {}), "glb": "/api/model.glb",
                    "geometry": self.geometry_report(revision)}
        return None

    def current_project(self) -> str | None:
        """The IfcProject GlobalId of the current revision; None if there is none, or it
        was imported before the project was recorded."""
        # Read from the event, not current(): that also reads the GLB report from disk, which
        # the plan does not need (and it runs in the writer's transaction).
        for event in self.service.store.recent_events(1, kind="model_imported"):
            project = event.data.get("project_id")
            return str(project) if project else None
        return None

    def geometry_report(self, revision: str | None) -> dict[str, Any]:
        """What the export of ``revision`` drew and what it could not; ``exported`` is
        false until the GLB has been asked for once (the dashboard asks on load)."""
        report = None
        if revision is not None:
            report = read_report(cached_glb(self.folder / "glb", revision,
                                            self.geometry.kernel, include_spaces=True))
        if report is None:
            return {"exported": False, "kernel": self.geometry.kernel}
        return {"exported": True, **report}

    def path_of(self, revision: str) -> Path:
        return self.folder / f"{revision}.ifc"

    async def plan_bytes(self, data: bytes, *, name: str = "model.ifc",
                         max_archive_share: float = MAX_ARCHIVE_SHARE) -> dict[str, Any]:
        """What importing an IFC revision would do, without doing it (a dry run): counts,
        the ids of each part (at most ``DRY_RUN_IDS`` each) and the reasons it would be
        refused. Changes nothing and writes no file."""
        contents = await asyncio.to_thread(read_model, data)
        plan = await self.service.view(self._plan, contents, max_archive_share)
        return {"dry_run": True, "name": name, **plan.report(limit=DRY_RUN_IDS)}

    def _plan(self, contents: ModelContents, max_archive_share: float) -> ImportPlan:
        return plan_import(self.service.twin, contents, time=self.service.clock(),
                           current_project=self.current_project(),
                           max_archive_share=max_archive_share)

    async def import_bytes(self, data: bytes, *, name: str = "model.ifc",
                           actor: Actor = SYSTEM, force: bool = False,
                           max_archive_share: float = MAX_ARCHIVE_SHARE) -> dict[str, Any]:
        """Import one IFC revision: all of it, or nothing (ModelImportError).

        A revision of another project, or one that would archive more than
        ``max_archive_share`` of the current model, raises ``ImportRefused`` unless
        ``force``; a forced import's audit entry says what it overrode."""
        contents = await asyncio.to_thread(read_model, data)
        if not force:
            # Refused before its file is written; the transaction checks again, against
            # the twin as it is by then.
            (await self.service.view(self._plan, contents, max_archive_share)).refuse()
        path = self.path_of(contents.revision)
        if not path.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".part")
            await asyncio.to_thread(partial.write_bytes, data)
            partial.replace(path)
        service = self.service

        def propose() -> Change:
            result = apply_import(service.twin, self._plan(contents, max_archive_share),
                                  force=force)
            final = result.events[-1]
            final.data["name"] = name
            final.data["counts"] = contents.counts()
            reports.append(result.report)
            after: dict[str, Any] = {"name": name, "counts": final.data["counts"],
                                     "project_id": contents.project_id}
            if result.report["forced"]:
                after["forced"] = result.report["forced"]
                after["refusals"] = result.report["refusals"]
            entry = AuditEntry("import_model", f"model:{contents.revision}", actor,
                               service.clock(), None, after)
            return Change(result.events, elements=result.elements, sensors=result.sensors,
                          bindings=result.bindings, audit=[entry])

        reports: list[dict[str, Any]] = []
        change = await service.writer.write(service._transact, propose)
        # Each added element would be a message of its own; clients reload the model on
        # ``model_imported`` (the last event) instead.
        service.publish_events([e for e in change.events if e.kind != "element_added"])
        return reports[0]

    async def glb(self) -> Path:
        """The current revision's GLB, exported once and cached.

        Spaces are included: the dashboard draws rooms as a layer of their own (hidden
        by status, translucent volumes on a heat map of a room property such as
        ``air_temperature``). ``glb_for`` keys its cache by it (``-spaces``).
        """
        current = self.current()
        if current is None:
            raise NotFound("the twin has no BIM model: import one with `twinsync import ifc`")
        path = self.path_of(current["revision"])
        if not path.exists():
            raise NotFound(f"the file of model revision {current['revision']} is missing")
        options = self.geometry
        async with self._glb_lock:
            return await asyncio.to_thread(
                glb_for, path, self.folder / "glb", revision=current["revision"],
                include_spaces=True, kernel=options.kernel, workers=options.workers,
                timeout=options.timeout)
