"""Sending a file to a running twinsync: one POST, its failures as twinsync errors.

``twinsync import`` and ``twinsync schedule import`` upload the same way: a URL that is not
one, a server that cannot be reached, an error answer and an answer that is not
twinsync's each become one clear line instead of a traceback.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConnectorError, InvalidInput


def post_file(url: str, route: str, params: dict[str, str], data: bytes,
              token: str | None) -> tuple[str, int, Any]:
    """POST ``data`` to ``route`` of the twinsync at ``url``: (the target URL, the status,
    the JSON body or None when the answer has none)."""
    import httpx

    from .token_cmd import bearer_header

    target = f"{url.rstrip('/')}{route}"
    try:
        response = httpx.post(target, params=params, content=data, timeout=600.0,
                              headers={"content-type": "application/octet-stream",
                                       **bearer_header(token)})
    except httpx.InvalidURL as exc:
        raise InvalidInput(f"--url {url!r} is not a URL: {exc}", "bad_url") from exc
    except httpx.TransportError as exc:  # refused, unknown host, timed out, no scheme
        raise ConnectorError(f"cannot reach twinsync at {url}: {exc or type(exc).__name__}"
                             ) from exc
    try:
        body = response.json()
    except ValueError:
        # A proxy's HTML page, or not twinsync at all.
        body = None
    if response.status_code >= 400 and not isinstance(body, dict):
        raise InvalidInput(f"{target} answered {response.status_code} "
                           f"{response.reason_phrase}", "upload_failed")
    return target, response.status_code, body


def report_of(url: str, target: str, status: int, body: Any, key: str) -> dict[str, Any]:
    """The import report of an answer that holds ``key``; an error answer or one that is
    not twinsync's raises."""
    if status >= 400:
        raise InvalidInput(f"{body.get('error')}: {body.get('detail')}", "upload_failed")
    if not isinstance(body, dict) or key not in body:
        raise ConnectorError(f"{target} did not answer with an import report: is {url} "
                             "a twinsync server?")
    return body
