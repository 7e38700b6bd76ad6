"""Failed call events of the stream's consumer groups (admins and supervisors)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from backoffice.api.deps import BackofficeDep, CurrentUser
from backoffice.models import BackofficeModel
from backoffice.services import dead_letters

router = APIRouter(prefix="/dead-letters", tags=["call events"])


class DeadLetterPublic(BackofficeModel):
    entry: str
    call_id: str
    type: str
    attempts: int
    error: str


@router.get(
    "/{group}",
    response_model=list[DeadLetterPublic],
    responses={503: {"description": "Redis is down"}},
)
def recent(
    group: str,
    user: CurrentUser,
    backoffice: BackofficeDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeadLetterPublic]:
    """Events the order intake (`backoffice`) or the worker (`transcription`) gave up on."""
    rows = dead_letters.recent(backoffice.redis(), group, user, limit)
    return [DeadLetterPublic(**vars(row)) for row in rows]
