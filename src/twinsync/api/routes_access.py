"""Signing in and out, the open health check, and tokens managed through the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from ..errors import InvalidInput, Unauthenticated
from ..tokens import Kind, csrf_of, role_of
from .access import actor, authenticator, identity_of
from .auth import CSRF_COOKIE, SESSION_COOKIE, Authenticator
from .contract import errors
from .responses import JSON
from .schemas.access import (
    Alive,
    SessionOpened,
    SignedOut,
    TokenCreated,
    TokenList,
    TokenRevoked,
    WhoAmI,
)

router = APIRouter(default_response_class=JSON)
Auth = Annotated[Authenticator, Depends(authenticator)]


@router.get("/healthz", response_model=Alive)
def healthz() -> JSON:
    """Liveness, for a load balancer: open, and says nothing about the twin."""
    return JSON({"status": "ok"})


class SignIn(BaseModel):
    """A token, or a user's name and password."""

    token: str | None = Field(default=None, min_length=1, max_length=200)
    user: str | None = Field(default=None, min_length=1, max_length=100)
    password: str | None = Field(default=None, max_length=1000)


@router.post("/api/session", response_model=SessionOpened, responses=errors(401))
async def sign_in(body: SignIn, request: Request, auth: Auth) -> JSON:
    """Trade a token, or a user's name and password, for a session cookie (HttpOnly,
    SameSite=Strict) and the CSRF value the page sends back in ``X-CSRF-Token`` with
    every change."""
    if body.token is not None:
        identity = await auth.identify(body.token, client=request.client.host
                                       if request.client else "")
        if identity is None:
            raise Unauthenticated("unknown, expired or revoked token", "bad_token")
        signer = identity.record
    elif body.user is not None and body.password is not None:
        user = await auth.check_password(body.user, body.password)
        if user is None:
            raise Unauthenticated("unknown user or wrong password", "bad_password")
        signer = user
    else:
        raise InvalidInput("sign in with a token, or a user and a password", "bad_request")
    secret, session = await auth.open_session(signer)
    csrf = csrf_of(secret)
    answer = JSON({"name": session.name, "role": session.role.value,
                   "expires_at": session.expires_at, "csrf": csrf})
    secure = request.url.scheme == "https"
    max_age = None if session.expires_at is None else int(session.expires_at
                                                           - session.created_at)
    answer.set_cookie(SESSION_COOKIE, secret, max_age=max_age, path="/", httponly=True,
                      samesite="strict", secure=secure)
    answer.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, path="/", httponly=False,
                      samesite="strict", secure=secure)
    return answer


@router.get("/api/session", response_model=WhoAmI)
def whoami(request: Request) -> JSON:
    identity = identity_of(request)
    record = identity.record
    return JSON({"name": record.name, "role": record.role.value, "kind": record.kind.value,
                 "expires_at": record.expires_at, "sensors": list(record.sensors)})


@router.delete("/api/session", response_model=SignedOut)
async def sign_out(request: Request, auth: Auth) -> JSON:
    identity = identity_of(request)
    if identity.record.kind is Kind.SESSION:
        await auth.end_session(identity.record)
    answer = JSON({"signed_out": True})
    answer.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    answer.delete_cookie(CSRF_COOKIE, path="/", samesite="strict")
    return answer


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: str
    expires_at: float | None = None
    """Epoch seconds; none: the token lasts until it is revoked."""
    sensors: list[str] = Field(default_factory=list)
    """For a device token: the sensor ids or ``fnmatch`` patterns it may post for."""


@router.get("/api/tokens", response_model=TokenList)
def list_tokens(auth: Auth) -> JSON:
    return JSON({"tokens": [r.public() for r in auth.tokens()]})


@router.post("/api/tokens", status_code=201, response_model=TokenCreated,
             responses=errors(409))
async def create_token(body: TokenIn, auth: Auth, request: Request) -> JSON:
    """A new token; the answer is the only time its secret is shown."""
    secret, record = await auth.create(body.name, role_of(body.role),
                                       expires_at=body.expires_at,
                                       sensors=tuple(body.sensors), actor=actor(request))
    return JSON({**record.public(), "token": secret}, status_code=201)


@router.delete("/api/tokens/{token_id:id}", response_model=TokenRevoked, responses=errors(404))
async def revoke_token(token_id: str, auth: Auth, request: Request) -> JSON:
    """Revoke a token and end every session opened with it, at once."""
    await auth.revoke(token_id, actor=actor(request))
    return JSON({"revoked": token_id})


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page() -> HTMLResponse:
    return HTMLResponse(LOGIN_PAGE, headers={"Cache-Control": "no-store",
                                             "Referrer-Policy": "no-referrer"})


# Self-contained (the static files are behind the sign-in). The token may come in the
# link's fragment (``/login#token=…``), which browsers never send to a server or a log.
LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>twinsync · sign in</title><link rel="icon" href="data:,">
<style>
body{margin:0;min-height:100vh;display:grid;place-items:center;background:#12161c;
color:#e6e9ee;font:15px system-ui,sans-serif}
form{background:#1b2129;padding:28px 32px;border-radius:10px;width:min(420px,90vw)}
h1{font-size:20px;margin:0 0 16px}label{display:block;margin-bottom:6px;color:#9aa4b2}
input{width:100%;box-sizing:border-box;padding:9px;border-radius:6px;border:1px solid #39424e;
background:#12161c;color:inherit;font:inherit}
input+label{margin-top:12px}.or{color:#9aa4b2;text-align:center;margin:14px 0 4px}
button{margin-top:14px;padding:9px 18px;border:0;border-radius:6px;background:#3e7bfa;
color:#fff;font:inherit;cursor:pointer}#error{color:#e5484d;min-height:1.4em}
</style></head><body>
<form id="sign-in"><h1>twinsync</h1>
<label for="user">User</label>
<input id="user" name="user" autocomplete="username">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<p class="or">or</p>
<label for="token">API token</label>
<input id="token" name="token" type="password" autocomplete="off">
<p id="error" role="alert"></p><button type="submit">Sign in</button></form>
<script>
async function signIn(credentials) {
  const response = await fetch("/api/session", {method: "POST",
    headers: {"content-type": "application/json"}, body: JSON.stringify(credentials)});
  if (response.ok) { location.replace("/"); return; }
  const answer = await response.json().catch(() => ({}));
  document.getElementById("error").textContent = answer.detail || "sign-in failed";
}
const field = (id) => document.getElementById(id).value;
document.getElementById("sign-in").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = field("token").trim();
  signIn(token ? {token} : {user: field("user").trim(), password: field("password")});
});
const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromLink) { history.replaceState(null, "", "/login"); signIn({token: fromLink}); }
</script></body></html>
"""
