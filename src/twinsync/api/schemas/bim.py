"""What the BIM model's routes answer. An import's report lists element ids by change;
its keys are described in docs/BIM.md."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ModelImport(BaseModel):
    """What an import did (201) or, with ``dry_run``, would do (200, ``refusals`` says
    why it would be refused)."""

    model_config = ConfigDict(extra="allow")
    revision: str
    schema_: str = Field(alias="schema", examples=["IFC4"])
    project_id: str | None
    counts: dict[str, int]
    added: list[str]
    changed: list[str]
    removed: list[str]
    """Archived (kept, hidden): elements the revision no longer holds."""
    refusals: list[dict[str, Any]]
    dry_run: bool = False


class ModelOut(BaseModel):
    """The current revision and what its geometry export drew (``exported`` false until
    the GLB is first asked for)."""

    revision: str | None
    schema_: str | None = Field(alias="schema")
    name: str | None
    imported_at: float
    project_id: str | None
    counts: dict[str, Any]
    glb: str
    geometry: dict[str, Any]


class ImportRefused(BaseModel):
    """409: the revision contradicts the twin's model; nothing changed. Send it again with
    ``force=1`` to import it anyway."""

    error: str
    detail: str
    refusals: list[dict[str, Any]]
    counts: dict[str, int]
