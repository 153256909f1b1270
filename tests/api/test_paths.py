"""Ids with slashes in the routes' paths (api/paths.py): a logger named by its MQTT topic
(``site/L9/t1``), an element or an activity code with a slash, is reached by each of its
own routes whether its slashes are sent encoded (``%2F``, as the dashboard's
``encodeURIComponent`` writes them) or as they are; an id that ends like a route's tail
(``a/health``) is reached encoded, and sent raw the tail is the route's; a trailing slash
is the id's; a ``%`` that is text is never read as an encoded slash. No route is hidden by
one tried before it, in the app's router or in the access table."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from starlette.routing import compile_path

from twinsync.api.access import ROUTES, route_key
from twinsync.api.app import create_app
from twinsync.api.paths import IdConvertor, precedence, routing_path
from twinsync.config import Settings

from .conftest import seeded_store, signed_in

SLAB = "site/L9/slab"
#: Loggers each route is tried with: slashes, an id ending like the binding route's tail,
#: one without a slash, and one ending in a slash.
LOGGERS = ["site/L9/t1", "a/binding", "plain", "a/"]
CSV_PLAN = """# project=L9
code,name,duration_hours,planned_start
L9/A100,Slab L9,16,2026-03-02 08:00
"""


def encoded(identifier: str) -> str:
    return quote(identifier, safe="")


def raw(identifier: str) -> str:
    """The id as a path with its slashes as they are (other characters quoted)."""
    return quote(identifier, safe="/")


FORMS = {"encoded": encoded, "raw": raw}


def scope(sent: str) -> dict[str, Any]:
    """An HTTP scope as uvicorn builds it from the request target ``sent``."""
    from urllib.parse import unquote

    return {"type": "http", "path": unquote(sent), "raw_path": sent.encode("ascii")}


def id_in(path: str, sent: str) -> str | None:
    """The id ``path`` (a route with one ``{name:id}``) takes from the request target
    ``sent``, as the router reads it; None if it does not match."""
    routed = routing_path(scope(sent)) or scope(sent)["path"]
    regex, _, convertors = compile_path(path)
    found = regex.match(routed)
    if found is None:
        return None
    ((name, value),) = found.groupdict().items()
    return str(convertors[name].convert(value))


# The path as routed ------------------------------------------------------------------

ids = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40)


@given(ids)
def test_any_id_sent_encoded_is_one_segment_of_the_routed_path_and_comes_back_whole(
        identifier: str) -> None:
    for route in ("/api/sensors/{sensor_id:id}", "/api/sensors/{sensor_id:id}/health"):
        tail = route.removeprefix("/api/sensors/{sensor_id:id}")
        assert id_in(route, f"/api/sensors/{encoded(identifier)}{tail}") == identifier
    # Only the route that names the tail takes it: the id ends before it, whatever it holds.
    assert id_in("/api/sensors/{sensor_id:id}/health",
                 f"/api/sensors/{encoded(identifier)}") is None


@given(ids)
def test_any_id_sent_as_the_dashboard_encodes_it_comes_back_whole(identifier: str) -> None:
    # encodeURIComponent leaves A-Z a-z 0-9 - _ . ! ~ * ' ( ) as they are.
    sent = quote(identifier, safe="-_.!~*'()")
    assert id_in("/api/elements/{element_id:id}/twin", f"/api/elements/{sent}/twin") == (
        identifier)


def test_a_percent_that_is_text_is_never_read_as_an_encoded_slash() -> None:
    route = "/api/sensors/{sensor_id:id}"
    assert id_in(route, "/api/sensors/a%252Fb") == "a%2Fb"
    assert id_in(route, "/api/sensors/50%25") == "50%"
    assert id_in(route, "/api/sensors/a%2%2Fb") == "a%2/b"  # a % not starting an escape
    assert id_in(route, "/api/sensors/a%zz") == "a%zz"
    assert id_in(route, "/api/sensors/%2f%2F") == "//"  # either case of the escape


def test_a_path_without_the_bytes_sent_routes_its_slashes_as_the_paths_own() -> None:
    # A server need not give raw_path: the path is then routed as decoded, its % kept text.
    assert routing_path({"type": "http", "path": "/api/sensors/a/b"}) is None
    assert routing_path({"type": "http", "path": "/api/sensors/50%"}) == "/api/sensors/50%25"
    # Nothing encoded: the path is routed as it is, without a copy.
    assert routing_path(scope("/api/readings")) is None


def test_an_id_goes_into_a_url_encoded_whole() -> None:
    assert IdConvertor().to_string("site/L9/t1") == "site%2FL9%2Ft1"


# The routes' order ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def app_routes() -> list[tuple[str, str]]:
    """Every (method, path) of the app's API routes, in the order the router tries them."""
    app = create_app(Settings(store="sqlite://unused"))
    found: list[tuple[str, str]] = []
    for context in iter_route_contexts(list(app.routes)):
        if isinstance(context.original_route, APIRoute) and context.path:
            found += [(method, context.path) for method in sorted(
                context.original_route.methods or ())]
    return found


def probe(path: str, identifier: str = "probe/with/slashes") -> str:
    return re.sub(r"\{\w+:id\}", identifier, path)


def test_every_route_parameter_takes_an_id_that_may_hold_slashes(
        app_routes: list[tuple[str, str]]) -> None:
    parameters = [name for _, path in app_routes for name in re.findall(r"\{([^}]*)\}", path)]
    assert parameters and all(name.endswith(":id") for name in parameters), parameters
    assert all(re.findall(r"\{([^}]*)\}", path)[0].endswith(":id")
               for key in ROUTES for path in [key[1]] if "{" in path)


def test_no_route_of_the_app_is_hidden_by_one_the_router_tries_before_it(
        app_routes: list[tuple[str, str]]) -> None:
    for method, path in app_routes:
        if "{" not in path:
            continue
        for sent in (probe(path), probe(path, encoded("probe/with/slashes"))):
            first = next(route for verb, route in app_routes
                         if verb == method and compile_path(route)[0].match(
                             routing_path(scope(sent)) or sent))
            assert first == path, (method, sent, first)


def test_no_route_is_hidden_in_the_access_table_by_one_looked_up_before_it() -> None:
    for method, path in ROUTES:
        if "{" not in path:
            continue
        for sent in (probe(path), probe(path, encoded("probe/with/slashes"))):
            routed = routing_path(scope(sent)) or sent
            assert route_key({"type": "http", "method": method, "path": routed}) == (
                method, path), sent


def test_a_route_ending_in_an_id_is_tried_after_those_naming_a_tail() -> None:
    paths = ["/api/sensors/{sensor_id:id}", "/api/sensors", "/api/sensors/{sensor_id:id}/health",
             "/api/x/{x:id}/track", "/api/x/{x:id}/twin/track"]
    assert sorted(paths, key=precedence) == [
        "/api/x/{x:id}/twin/track", "/api/sensors/{sensor_id:id}/health",
        "/api/x/{x:id}/track", "/api/sensors/{sensor_id:id}", "/api/sensors"]


# Over the API ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An admin's client over the demo twin with a slab ``site/L9/slab`` whose loggers
    (``LOGGERS``, and ``a`` and ``a/health``) are bound to its core temperature and read
    for an hour."""
    folder = Path(tmp_path_factory.mktemp("paths"))
    with signed_in(Settings(store=seeded_store(folder), rate_requests=0)) as test_client:
        answer = test_client.post("/api/elements", json={"id": SLAB, "type": "IfcSlab"})
        assert answer.status_code == 201, answer.text
        now = time.time()
        readings = []
        for logger in [*LOGGERS, "a", "a/health"]:
            answer = test_client.post("/api/sensors", json={
                "id": logger, "kind": "temperature", "unit": "degC"})
            assert answer.status_code == 201, answer.text
            answer = test_client.put(f"/api/sensors/{encoded(logger)}/binding", json={
                "element_id": SLAB, "property": "core_temperature"})
            assert answer.status_code == 200, answer.text
            readings += [{"sensor_id": logger, "time": now - 3600 + 60 * k,
                          "value": 20.0 + 0.1 * (k % 3)} for k in range(60)]
        answer = test_client.post("/api/readings", json={"readings": readings})
        assert answer.status_code == 200 and answer.json()["accepted"] == len(readings)
        yield test_client


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("logger", LOGGERS)
def test_each_sensor_route_reaches_its_logger_whatever_its_id_holds(
        client: TestClient, logger: str, form: str) -> None:
    sensor = f"/api/sensors/{FORMS[form](logger)}"
    read = client.get(sensor)
    assert read.status_code == 200 and read.json()["id"] == logger, read.text
    health = client.get(f"{sensor}/health")
    assert health.status_code == 200 and health.json()["sensor_id"] == logger, health.text
    history = client.get(f"{sensor}/readings")
    assert history.status_code == 200, history.text
    assert history.json()["sensor_id"] == logger and len(history.json()["time"]) == 60
    unbound = client.delete(f"{sensor}/binding")
    assert unbound.status_code == 200 and unbound.json()["id"] == logger, unbound.text
    assert unbound.json()["binding"] is None
    bound = client.put(f"{sensor}/binding", json={"element_id": SLAB,
                                                  "property": "core_temperature"})
    assert bound.status_code == 200 and bound.json()["binding"]["sensor_id"] == logger


def test_an_id_ending_like_a_route_tail_is_reached_encoded_and_sent_raw_the_tail_is_the_routes(
        client: TestClient) -> None:
    read = client.get(f"/api/sensors/{encoded('a/health')}")
    assert read.status_code == 200 and read.json()["id"] == "a/health", read.text
    judged = client.get(f"/api/sensors/{encoded('a/health')}/health")
    assert judged.json()["sensor_id"] == "a/health", judged.text
    # Raw, /health is the route's: the health of the logger "a".
    tail = client.get("/api/sensors/a/health")
    assert tail.status_code == 200 and tail.json()["sensor_id"] == "a", tail.text
    assert tail.json().keys() != read.json().keys()
    # A route of another method does not claim the tail: a GET of a/binding reads it.
    assert client.get("/api/sensors/a/binding").json()["id"] == "a/binding"


def test_a_trailing_slash_is_part_of_the_id(client: TestClient) -> None:
    assert client.get("/api/sensors/a/").json()["id"] == "a/"
    missing = client.get("/api/sensors/plain/")
    assert missing.status_code == 404 and missing.json()["detail"] == "no sensor 'plain/'"
    # No id at all names no sensor: an id is never empty.
    assert client.get("/api/sensors/").json()["detail"] == "no such route"


@pytest.mark.parametrize("form", FORMS)
def test_each_element_route_reaches_an_element_whose_id_holds_slashes(
        client: TestClient, form: str) -> None:
    element = f"/api/elements/{FORMS[form](SLAB)}"
    now = time.time()
    read = client.get(element)
    assert read.status_code == 200 and read.json()["id"] == SLAB, read.text
    patched = client.patch(element, json={"status": "in_progress"})
    assert patched.status_code == 200 and patched.json()["element"]["id"] == SLAB
    measured = client.post(f"{element}/measurements", json={
        "property": "core_temperature", "value": 20.1, "unit": "degC", "uncertainty": 0.5})
    assert measured.status_code == 201 and "site/L9/t1" in measured.json()["property"][
        "sensors"], measured.text
    for tail, params in [("/twin", {}), ("/zone", {}),
                         ("/forecast", {"property": "core_temperature", "horizon": 3600}),
                         ("/twin/track", {"property": "core_temperature",
                                          "start": now - 7200, "end": now})]:
        answer = client.get(f"{element}{tail}", params=params)
        assert answer.status_code == 200 and answer.json()["element_id"] == SLAB, (tail,
                                                                                  answer.text)
    maturity = client.get(f"{element}/maturity")
    assert maturity.status_code == 404, maturity.text  # the route's own answer, for the slab:
    assert maturity.json()["detail"].startswith(f"element {SLAB!r} is of no concrete mix")


@pytest.mark.parametrize("form", FORMS)
def test_each_activity_route_reaches_an_activity_whose_code_holds_a_slash(
        client: TestClient, form: str) -> None:
    answer = client.post("/api/schedules?name=plan.csv&force=true", content=CSV_PLAN,
                         headers={"content-type": "application/octet-stream"})
    assert answer.status_code == 201, answer.text
    activity = f"/api/schedule/activities/{FORMS[form]('L9/A100')}"
    read = client.get(activity)
    assert read.status_code == 200 and read.json()["id"] == "L9/A100", read.text
    linked = client.put(f"{activity}/elements", json={"elements": [SLAB]})
    assert linked.status_code == 200 and linked.json()["elements"] == [SLAB], linked.text
    progress = client.post(f"{activity}/progress", json={
        "percent_complete": 25, "date": "2026-03-04 12:00",
        "actual_start": "2026-03-02 08:00"})
    assert progress.status_code == 201, progress.text


def test_the_api_document_says_how_an_id_with_a_slash_is_sent() -> None:
    document = create_app(Settings(store="sqlite://unused")).openapi()
    parameters = [(path, parameter) for path, operations in document["paths"].items()
                  for operation in operations.values()
                  for parameter in operation.get("parameters", ())
                  if parameter["in"] == "path"]
    assert len(parameters) == sum(
        1 for _, path in ROUTES if "{" in path), [path for path, _ in parameters]
    for path, parameter in parameters:
        assert "send it encoded" in parameter["description"], path
        assert f"{{{parameter['name']}}}" in path  # named as the router's path has it
