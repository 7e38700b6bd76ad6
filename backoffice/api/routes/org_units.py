"""The union network that work orders are dispatched through."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from backoffice.api.deps import CurrentUser, SessionDep
from backoffice.models import OrgUnit, OrgUnitCreate, OrgUnitPublic
from backoffice.models.base import MAX_ID
from backoffice.services import org_units

router = APIRouter(prefix="/org-units", tags=["org units"])
UnitId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("", response_model=list[OrgUnitPublic])
def list_units(
    session: SessionDep,
    _user: CurrentUser,
    parent_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> list[OrgUnit]:
    """The whole network, parents before children, or the children of `parent_id`."""
    return org_units.list_units(session, parent_id)


@router.get("/{unit_id}", response_model=OrgUnitPublic)
def get_unit(unit_id: UnitId, session: SessionDep, _user: CurrentUser) -> OrgUnit:
    return org_units.get(session, unit_id)


@router.post("", response_model=OrgUnitPublic, status_code=201)
def create_unit(data: OrgUnitCreate, session: SessionDep, user: CurrentUser) -> OrgUnit:
    """Add a unit under `parent_id`; its level follows from the parent's (admins only)."""
    return org_units.create(session, data, user)
