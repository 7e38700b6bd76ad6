"""Live calls: bring a lawyer in (consult, three-way conference or hand the caller over)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from acd.consult import LawyerMode
from backoffice.api.deps import BackofficeDep, CurrentViewer
from backoffice.models import BackofficeModel
from backoffice.services import lawyers

router = APIRouter(prefix="/calls", tags=["calls"])
CallId = Annotated[str, Path(pattern=r"^[0-9]{1,20}\.[0-9]{1,10}$", description="Asterisk's id")]
_RESPONSES: dict[int | str, dict[str, Any]] = {
    503: {"description": "Redis or Asterisk is down"},
}


class LawyerBody(BackofficeModel):
    mode: LawyerMode = LawyerMode.CONSULT


class LawyerPublic(BackofficeModel):
    call_id: str
    mode: str
    operator: str
    lawyer: str | None
    stage: str | None
    callback_id: int | None


@router.post("/{call_id}/lawyer", response_model=LawyerPublic, responses=_RESPONSES)
def bring_in_lawyer(
    call_id: CallId,
    body: LawyerBody,
    request: Request,
    backoffice: BackofficeDep,
    viewer: CurrentViewer,
) -> LawyerPublic:
    """The lawyer is chosen by the ACD (skill `legal`, longest idle). `consult` puts the caller
    on hold with music while the operator talks to the lawyer; `conference` joins all three;
    `transfer` hands the caller to the lawyer and the operator leaves. With no lawyer free,
    `lawyer` is null and `callback_id` names the lawyer callback request made for the call."""
    service = lawyers.service_of(backoffice, request.app.state)
    outcome = lawyers.bring_in(service, viewer, call_id, body.mode)
    return LawyerPublic(**outcome.as_dict())
