"""How a request's path names its route and the ids in it.

An id may hold ``/`` (``model/validate.identifier`` allows it): a logger is often named by
its MQTT topic (``site/L9/t1``), and an alarm's key by its logger
(``anomaly:site/L9/t1``). Every route parameter therefore takes the convertor ``id``
registered here (``/api/sensors/{sensor_id:id}/health``), and an id may be sent two ways:

- encoded, ``/api/sensors/site%2FL9%2Ft1/health`` (``encodeURIComponent``,
  ``quote(id, safe="")``): the id is one segment of the path whatever it holds, so every id
  is reached, ``x/health`` and ``a/`` included;
- with its slashes as they are, ``/api/sensors/site/L9/t1/health``: a route that names a
  tail after the id (``/health``) takes the path if it ends so, and its id is what lies
  between; a route whose path ends in the id (``/api/sensors/{sensor_id:id}``) takes what
  no route of the same method with a tail took (``precedence``). A sensor named
  ``x/health`` sent this way is read as the health of ``x``; a trailing slash is the id's
  (``/api/sensors/a/`` is the sensor ``a/``), since an id may end in one.

The server decodes ``%2F`` before routing (ASGI's ``path``), which would make the two ways
one. ``EncodedSlashes`` therefore gives the router the path as sent, decoded except for
``%2F`` and ``%25`` (a ``%`` that is text is written ``%25``, so the form is
unambiguous), and ``IdConvertor`` decodes those two in the id it takes. A route parameter
that is not an ``id`` would see them still encoded, so every one is (a test says so).
"""

from __future__ import annotations

import re
from typing import ClassVar
from urllib.parse import quote, unquote

from starlette.convertors import Convertor, register_url_convertor
from starlette.types import ASGIApp, Receive, Scope, Send

#: What the API's document says of every id in a path.
ID_IN_PATH = ("An id; it may hold '/' (a logger named by its MQTT topic): send it encoded "
              "(site%2FL9%2Ft1, as encodeURIComponent does) and any id is reached. Sent "
              "as it is, a tail that names a route (/health) is the route's.")

#: What ``routing_path`` leaves encoded: a slash inside an id, and ``%`` itself.
_KEPT = re.compile(r"(%2[fF]|%25)")
_ESCAPE = re.compile(r"%(2F|25)")


class IdConvertor(Convertor[str]):
    """An id in a route's path: one segment or more (``.+``), decoded."""

    regex: ClassVar[str] = ".+"

    def convert(self, value: str) -> str:
        return _ESCAPE.sub(lambda found: "/" if found.group(1) == "2F" else "%", value)

    def to_string(self, value: str) -> str:
        return quote(value, safe="")


register_url_convertor("id", IdConvertor())


def routing_path(scope: Scope) -> str | None:
    """The path to route ``scope`` by, or None if it is ``scope["path"]`` as it is.

    Built from ``raw_path``, the bytes sent: the server's ``path`` has decoded them once
    (Starlette's test client twice: ``%252F`` becomes ``/``). Without one the decoded
    path's slashes are all taken as the path's, and only its ``%`` is escaped."""
    path: str = scope["path"]
    raw = scope.get("raw_path")
    if raw and b"%" in raw:
        try:
            sent = raw.decode("ascii")
        except UnicodeDecodeError:  # not a request target HTTP allows: route as decoded
            sent = ""
        if sent:
            # Split at the kept escapes: a UTF-8 sequence never holds the bytes of `/` or
            # `%`, so each piece between them decodes on its own.
            pieces = _KEPT.split(sent)
            return "".join(piece.upper() if index % 2 else unquote(piece).replace("%", "%25")
                           for index, piece in enumerate(pieces))
    if "%" in path:
        return path.replace("%", "%25")
    return None


class EncodedSlashes:
    """Routes every request by ``routing_path``: runs before the access guard and the
    router, which both match the path against the routes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            routed = routing_path(scope)
            if routed is not None:
                scope = {**scope, "path": routed}
        await self.app(scope, receive, send)


def precedence(path: str) -> int:
    """Where a route's ``path`` comes in the order a request is matched (lower first): a
    path whose parameter ends it takes any tail, so it comes after those that name one,
    the longer tail first. Sorted by it, routes keep their order otherwise."""
    if "}" not in path:
        return 0
    return -len(path[path.rindex("}") + 1:])
