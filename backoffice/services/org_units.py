"""The union network: reading it, and adding units under an existing one."""

from __future__ import annotations

from sqlmodel import Session, col, select

from backoffice.domain.lifecycle import Role
from backoffice.errors import Forbidden, Invalid, NotFound
from backoffice.models import OrgLevel, OrgUnit, OrgUnitCreate, User
from backoffice.models.org import CHILD_LEVEL


def get(session: Session, unit_id: int) -> OrgUnit:
    unit = session.get(OrgUnit, unit_id)
    if unit is None:
        raise NotFound(f"org unit {unit_id} not found")
    return unit


def list_units(session: Session, parent_id: int | None = None) -> list[OrgUnit]:
    """Every unit, parents before children (by path), or only the children of ``parent_id``."""
    query = select(OrgUnit).order_by(col(OrgUnit.path))
    if parent_id is not None:
        query = query.where(OrgUnit.parent_id == parent_id)
    return list(session.exec(query).all())


def add_root(session: Session, name: str, region_name: str, region_code: str | None) -> OrgUnit:
    """The provincial federation at the top of the network (seed and set-up only)."""
    unit = OrgUnit(
        name=name, level=OrgLevel.PROVINCE, region_name=region_name, region_code=region_code
    )
    return _placed(session, unit, "/")


def add_child(session: Session, parent: OrgUnit, data: OrgUnitCreate) -> OrgUnit:
    level = CHILD_LEVEL.get(parent.level)
    if level is None:
        raise Invalid(f"a {parent.level} unit cannot have units under it")
    fields = data.model_dump(exclude={"parent_id"})
    unit = OrgUnit(**fields, parent_id=parent.id, level=level)
    return _placed(session, unit, parent.path)


def create(session: Session, data: OrgUnitCreate, actor: User) -> OrgUnit:
    if actor.role is not Role.ADMIN:
        raise Forbidden("only admins change the union network")
    parent = session.get(OrgUnit, data.parent_id)
    if parent is None:
        raise Invalid(f"parent org unit {data.parent_id} does not exist")
    _refuse_duplicate(session, parent, data.name)
    unit = add_child(session, parent, data)
    session.commit()
    return unit


def _refuse_duplicate(session: Session, parent: OrgUnit, name: str) -> None:
    query = select(OrgUnit.id).where(OrgUnit.parent_id == parent.id, OrgUnit.name == name)
    if session.exec(query).first() is not None:
        raise Invalid(f"{parent.name} already has a unit named {name}")


def _placed(session: Session, unit: OrgUnit, parent_path: str) -> OrgUnit:
    # The path needs the unit's own id, which the database gives on flush.
    session.add(unit)
    session.flush()
    unit.path = f"{parent_path}{unit.id}/"
    session.flush()
    return unit
