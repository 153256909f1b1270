"""A real server process survives a geometry kernel that segfaults on an element.

Before worker processes, such an element killed the twin (exit 139), and since the
dashboard asks for the GLB on every load, the restarted twin died again. Here the worker
kills itself with SIGSEGV on one element (``TWINSYNC_GEOMETRY_FAULT``), as manifold does on
some Revit furniture; the server answers, serves the rest, and names the element.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.server import Server

from twinsync.bim import GeneratedModel, generate_shapes, glb_node_names


@pytest.fixture
def furniture(tmp_path: Path) -> GeneratedModel:
    return generate_shapes(tmp_path / "furniture.ifc",
                           cases=["mapped_surface_model", "mapped_brep", "clipped_wall"])


@pytest.fixture
def server(tmp_path: Path, furniture: GeneratedModel,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    # Both kernels crash on the chair, so it cannot be drawn at all.
    monkeypatch.setenv("TWINSYNC_GEOMETRY_FAULT", f"segv:{furniture.ids['mapped_brep']}")
    running = Server("serve", "--store", f"sqlite:///{tmp_path / 'twin.sqlite'}",
                     cwd=tmp_path)
    running.start()
    yield running
    running.stop()


def test_a_segfaulting_kernel_leaves_the_server_up_and_the_element_reported(
        server: Server, furniture: GeneratedModel, tmp_path: Path) -> None:
    client = server.client()
    assert client.post("/api/models", content=furniture.path.read_bytes()).status_code == 201
    chair = furniture.ids["mapped_brep"]
    for _ in range(2):  # the dashboard asks on every load
        glb = client.get("/api/model.glb")
        assert glb.status_code == 200
        assert server.process is not None and server.process.poll() is None
    (tmp_path / "m.glb").write_bytes(glb.content)
    assert set(glb_node_names(tmp_path / "m.glb")) == set(furniture.ids.values()) - {chair}
    missing = client.get("/api/model").json()["geometry"]["missing"]
    assert [(m["id"], m["reason"]) for m in missing] == [(chair, "crashed")]
    assert not list((tmp_path / "twin-models" / "glb").glob("*.part"))
