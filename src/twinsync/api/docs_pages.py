"""``/docs`` (Swagger UI) and ``/redoc``: the OpenAPI document as pages, from packaged
assets only.

FastAPI's own pages load their scripts from a CDN, which a site network often cannot
reach; these load ``swagger-ui-dist`` and ``redoc`` from the npm folder the dashboard's
packages come from (``/vendor``, ``web/package.json``), and the document from
``/openapi.json``. Both pages are for whoever may read the document (``access.ROUTES``).
Swagger UI's requests carry the session cookie like the dashboard's, so "Try it out"
sends the CSRF value too (read from the ``twinsync_csrf`` cookie, as ``api.js`` does).
A Content-Security-Policy keeps both pages to this server: nothing they load or call is
elsewhere.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..errors import NotFound
from .auth import CSRF_COOKIE, CSRF_HEADER

router = APIRouter()

SWAGGER_UI = "/vendor/swagger-ui-dist"
REDOC = "/vendor/redoc/bundles/redoc.standalone.js"
#: The npm packages each page needs, as installed under ``web/node_modules``.
PACKAGES = {
    "docs": "swagger-ui-dist/swagger-ui-bundle.js",
    "redoc": "redoc/bundles/redoc.standalone.js",
}
#: The pages may load and call this server only: ReDoc's footer would fetch its logo from
#: a CDN, and Swagger UI's validator badge another host; the browser refuses both unasked.
POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    "worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": POLICY,
}


def _check_installed(request: Request, page: str) -> None:
    vendor = request.app.state.vendor
    if vendor is None or not (vendor / PACKAGES[page]).is_file():
        raise NotFound(
            f"/{page} needs the npm package {PACKAGES[page].split('/')[0]}: run "
            f"`make install` (web/package.json)"
        )


@router.get("/docs", include_in_schema=False)
def swagger_ui(request: Request) -> HTMLResponse:
    _check_installed(request, "docs")
    return HTMLResponse(SWAGGER_PAGE, headers=HEADERS)


@router.get("/redoc", include_in_schema=False)
def redoc(request: Request) -> HTMLResponse:
    _check_installed(request, "redoc")
    return HTMLResponse(REDOC_PAGE, headers=HEADERS)


SWAGGER_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>twinsync · API</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css">
</head><body><div id="swagger-ui"></div>
<script src="{SWAGGER_UI}/swagger-ui-bundle.js"></script>
<script>
function csrf() {{
  const found = document.cookie.match(/(?:^|; ){CSRF_COOKIE}=([^;]*)/);
  return found ? decodeURIComponent(found[1]) : null;
}}
window.ui = SwaggerUIBundle({{
  url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null,
  requestInterceptor: (request) => {{
    const value = csrf();
    if (value) request.headers["{CSRF_HEADER}"] = value;
    return request;
  }},
}});
</script></body></html>
"""

REDOC_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>twinsync · API reference</title><link rel="icon" href="data:,">
<style>body{{margin:0}}</style>
</head><body><redoc spec-url="/openapi.json"></redoc>
<script src="{REDOC}"></script>
</body></html>
"""
