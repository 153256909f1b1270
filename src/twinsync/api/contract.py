"""The OpenAPI document: every route's answers, error statuses and request bodies.

Routes declare their 2xx models (``api/schemas``) and the errors only they can answer
(404, 409, 412 …) with ``errors(...)``. ``declare_errors`` adds, from the access table,
what every route of a kind can answer: 401, 403 and 429 to any route that needs a
token, 415 to one that reads a body, 422 to one with parameters, 503 to one under
``/api/`` (the store unavailable, the twin busy). Each is the one error shape
``{"error": code, "detail": text}``.

Bodies a route decodes itself (the readings' batch, a file) are not parsed by FastAPI:
they are put in the document through ``openapi_extra`` (``json_body``, ``FILE_BODY``) and
their models added to ``components`` by ``document``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel

from .access import DOCUMENTED, UNSAFE
from .paths import ID_IN_PATH
from .schemas.common import ErrorOut
from .schemas.curing import MixIn
from .schemas.plans import LinkRuleIn
from .schemas.readings import ReadingsBody

#: What each error status means, as the document says it.
MEANING = {
    400: "The body is not JSON or holds nothing usable",
    401: "No valid token or session (answered with `WWW-Authenticate: Bearer`)",
    403: "The caller's role may not do this, or a value it may not claim",
    404: "No such route, or nothing of that id",
    409: "It conflicts with what the twin holds",
    412: "`If-Match` names a revision that is no longer current (`stale_revision`); "
    "the answer's `ETag` is the current one",
    413: "The body or the batch is past its limit",
    415: "A body of a type the route does not read",
    422: "A parameter or the body is not valid (the field and why, in `detail`)",
    429: "Past the token's rate (`Retry-After`: seconds to wait)",
    503: "The store is unavailable or the twin is busy: nothing was kept, send it again "
    "after `Retry-After` seconds",
}

#: Models of bodies put in the document by ``openapi_extra`` rather than parsed.
DOCUMENTED_BODIES: list[type[BaseModel]] = [ReadingsBody, LinkRuleIn, MixIn]


def errors(*statuses: int, **models: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route's own error statuses; ``models`` give a status a shape
    of its own (``s409=ImportRefused``), else it is ``ErrorOut``."""
    answers: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        model = models.get(f"s{status}", ErrorOut)
        answers[status] = {"model": model, "description": MEANING[status]}
    return answers


def json_body(model: type[BaseModel], description: str) -> dict[str, Any]:
    """``openapi_extra`` for a JSON body the route reads itself."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            },
        }
    }


_BINARY = {"type": "string", "format": "binary"}

#: ``openapi_extra`` for a route that takes a file: the raw body, or a form's ``file``.
FILE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/octet-stream": {"schema": _BINARY},
            "multipart/form-data": {
                "schema": {"type": "object", "required": ["file"], "properties": {"file": _BINARY}}
            },
        },
    }
}


def operation_id(route: APIRoute) -> str:
    """An operation's id in the document: its handler's name (``post_readings``), which a
    generated client takes as the method's name."""
    return route.name


def declare_errors(paths: dict[str, Any]) -> None:
    """Add to each operation of the document the error statuses its kind answers (see the
    module's docstring), keeping any the route declared itself; FastAPI's own 422 shape
    (a list of errors) is replaced by ours, which is what the app answers."""
    for path, operations in paths.items():
        for method, operation in operations.items():
            access = DOCUMENTED.get((method.upper(), path))
            if access is None:
                continue
            answers = operation.setdefault("responses", {})
            statuses: list[int] = []
            if access.roles is not None:
                statuses += [401, 403, 429]
            if method.upper() in UNSAFE and "requestBody" in operation:
                statuses.append(415)
            if operation.get("parameters") or "requestBody" in operation:
                statuses.append(422)
            if path.startswith("/api/"):
                statuses.append(503)
            fastapi_422 = answers.get("422", {}).get("content", {}).get("application/json", {})
            if "HTTPValidationError" in str(fastapi_422.get("schema", "")):
                del answers["422"]
            for status in statuses:
                answers.setdefault(
                    str(status),
                    {
                        "description": MEANING[status],
                        "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
                    },
                )


ERROR_REF = "#/components/schemas/ErrorOut"


def document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, built once: FastAPI's, with each route's error statuses,
    the bodies of ``DOCUMENTED_BODIES`` in ``components`` and the bearer scheme on each
    route that needs a token; each id in a path says how one with a slash is sent."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    paths = schema.get("paths", {})
    declare_errors(paths)
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    models: list[type[BaseModel]] = [ErrorOut, *DOCUMENTED_BODIES]
    for model in models:
        body = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(body.pop("$defs", {}))
        schemas[model.__name__] = body
    if "HTTPValidationError" not in str(paths):
        # Nothing answers FastAPI's shape of a validation error: ours is ErrorOut.
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
    components["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "A token (`tws_…`): `twinsync token create` or `POST /api/tokens`",
        }
    }
    for path, operations in paths.items():
        for method, operation in operations.items():
            access = DOCUMENTED.get((method.upper(), path))
            if access is not None and access.roles is not None:
                operation["security"] = [{"bearer": []}]
            for parameter in operation.get("parameters", ()):
                if parameter.get("in") == "path":
                    parameter.setdefault("description", ID_IN_PATH)
    app.openapi_schema = schema
    return schema
