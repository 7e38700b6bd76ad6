"""Accounts: who am I, and (admins) who else."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from backoffice.api.deps import CurrentUser, SessionDep
from backoffice.models import User, UserCreate, UserPublic, UserUpdate
from backoffice.models.base import MAX_ID
from backoffice.services import users

router = APIRouter(prefix="/users", tags=["users"])
UserId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser) -> User:
    return user


@router.get("", response_model=list[UserPublic])
def list_users(session: SessionDep, user: CurrentUser) -> list[User]:
    return users.list_users(session, user)


@router.post("", response_model=UserPublic, status_code=201)
def create_user(data: UserCreate, session: SessionDep, user: CurrentUser) -> User:
    return users.create(session, data, user)


@router.patch("/{user_id}", response_model=UserPublic)
def update_user(
    user_id: UserId, changes: UserUpdate, session: SessionDep, user: CurrentUser
) -> User:
    return users.update(session, user_id, changes, user)
