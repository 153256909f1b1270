"""Users through the API: admins list, add and remove them; a signed-in user changes
their own password. A user's name is unique among live users (409 on a second one)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from ..tokens import MAX_PASSWORD, role_of
from .access import actor, authenticator, identity_of
from .auth import Authenticator
from .contract import errors
from .responses import JSON
from .schemas.access import PasswordChanged, TokenOut, UserList, UserRemoved

router = APIRouter(prefix="/api", default_response_class=JSON)
Auth = Annotated[Authenticator, Depends(authenticator)]


class UserIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: str
    """``viewer``, ``operator`` or ``admin`` (a device has a token)."""
    password: str = Field(max_length=MAX_PASSWORD)


class PasswordChange(BaseModel):
    current: str = Field(max_length=MAX_PASSWORD)
    new: str = Field(max_length=MAX_PASSWORD)


@router.get("/users", response_model=UserList)
async def list_users(auth: Auth) -> JSON:
    """Live users (never a password's hash); ``duplicates`` names those of a store made
    before names were unique, who must be removed by id until one of each is left."""
    users = await auth.live_users()
    return JSON({"users": [u.public() for u in users],
                 "duplicates": auth.store.duplicate_users})


@router.post("/users", status_code=201, response_model=TokenOut, responses=errors(409))
async def add_user(body: UserIn, auth: Auth, request: Request) -> JSON:
    """A new user who signs in with ``name`` and ``password``; 409 if a live user has
    that name already."""
    record = await auth.add_user(body.name, role_of(body.role), body.password,
                                 actor=actor(request))
    return JSON(record.public(), status_code=201)


@router.delete("/users/{user_id:id}", response_model=UserRemoved, responses=errors(404))
async def remove_user(user_id: str, auth: Auth, request: Request) -> JSON:
    """Remove a user: their sessions end at once, and nobody signs in as them again."""
    await auth.remove_user(user_id, actor=actor(request))
    return JSON({"removed": user_id})


@router.post("/session/password", response_model=PasswordChanged, responses=errors(404))
async def change_password(body: PasswordChange, auth: Auth, request: Request) -> JSON:
    """The signed-in user's new password, given the current one; their other sessions
    end, this one goes on."""
    await auth.change_password(identity_of(request), body.current, body.new,
                               actor=actor(request))
    return JSON({"changed": True})
