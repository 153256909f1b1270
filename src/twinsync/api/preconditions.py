"""``ETag`` and ``If-Match`` for elements and bindings: optimistic concurrency over HTTP.

A GET of an element (or of a sensor, for its binding) answers ``ETag: "<revision>"``; a
PATCH, PUT or DELETE that sends ``If-Match`` with that value is done only if nothing
changed it since, and answers 412 ``stale_revision`` otherwise, having changed nothing.
``If-Match: *`` asks only that it exists. Without ``If-Match`` a write goes on as it
always did (the last writer wins).

The ETag names the revision of what a write can change (the element's record, the
binding), not of live sensor values shown beside it, which move without a revision.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

from ..errors import InvalidInput
from ..service.revisions import Match

#: Values in one If-Match header, at most.
MAX_TAGS = 32


def etag(revision: int) -> str:
    return f'"{revision}"'


IfMatch = Annotated[str | None, Header(
    alias="If-Match", description='The ETag this write was made against, e.g. "7" (or *); '
    "a stale one answers 412 stale_revision and changes nothing")]
"""The header as a route parameter, so the OpenAPI document shows it."""


def if_match(header: str | None) -> Match | None:
    """A request's ``If-Match``; None when it has none. A weak tag (``W/"3"``) never
    matches (RFC 9110 compares If-Match strongly), nor does one that names no revision."""
    if header is None:
        return None
    if header.strip() == "*":
        return Match(any=True)
    tags = [t.strip() for t in header.split(",")]
    if len(tags) > MAX_TAGS:
        raise InvalidInput(f"If-Match names {len(tags)} tags; at most {MAX_TAGS}",
                           "bad_precondition")
    revisions = set()
    for tag in tags:
        inner = tag[1:-1] if len(tag) >= 2 and tag[0] == tag[-1] == '"' else ""
        if inner.isdigit() and len(inner) < 19:
            revisions.add(int(inner))
    return Match(frozenset(revisions))
