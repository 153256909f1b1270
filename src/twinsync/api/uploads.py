"""A file sent to the API: as the body of the request, or as the ``file`` field of a form.

``POST /api/models`` and ``POST /api/schedules`` take a file either way (a program sends
the bytes, a browser a form); both refuse an empty one and one over their limit.
"""

from __future__ import annotations

from fastapi import Request

from ..errors import InvalidInput


async def uploaded_file(request: Request, default_name: str, what: str,
                        limit: int) -> tuple[str, bytes]:
    """(file name, bytes) of the upload: the form's ``file`` field and its name, or the
    body and the ``name`` query parameter (``default_name`` without one)."""
    name = request.query_params.get("name", default_name)
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput("the form has no file field named 'file'", "no_file")
        name = upload.filename or name
        data = await upload.read()
    else:
        data = await request.body()
    if not data:
        raise InvalidInput(f"the request carries no {what}", "no_file")
    if len(data) > limit:
        raise InvalidInput(f"{what} larger than {limit} bytes", "too_large")
    return name, data
