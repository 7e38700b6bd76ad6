"""Who may see which work order, and whose eyes get the caller's number masked.

- Everyone sees the orders of their own org unit's subtree; the provincial centre (a user of
  the root unit) also sees orders that have no org unit yet. Admins see everything.
- Handlers and lawyers see an order once it has been dispatched into their subtree (not while
  it is only proposed for it), and act only on orders dispatched to their own unit.
- Anyone sees the orders assigned to them and the ones they took themselves (a duty lawyer
  who takes a call keeps sight of the order before it is dispatched).
- Confidential orders: only the assignee, supervisors and admins.
- Numbers: the provincial centre (admin, supervisor, operator) sees them in full; handlers and
  lawyers too, because they call the worker back to verify and mediate, except on anonymous
  orders, whose number stays with the centre; viewers (leaders, statistics) never.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import BindParameter, ColumnElement, and_, bindparam, or_, select, true
from sqlmodel import Session, col

from backoffice.domain.lifecycle import Actor, Role, Status
from backoffice.errors import Unauthorized
from backoffice.models import OrgUnit, User, WorkOrder

CENTRE_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR})
CONFIDENTIAL_READERS = frozenset({Role.ADMIN, Role.SUPERVISOR})
ORG_UNIT_ROLES = frozenset({Role.HANDLER, Role.LAWYER})
ORDER_TAKERS = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR, Role.LAWYER})
ORDER_EDITORS = CENTRE_ROLES


@dataclass(frozen=True)
class Viewer:
    """A signed-in user with where they sit in the union network."""

    user_id: int
    name: str
    role: Role
    org_unit_id: int
    org_path: str
    at_root: bool

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, self.name, self.role)


def viewer_of(session: Session, user: User) -> Viewer:
    return viewer_from(user, session.get(OrgUnit, user.org_unit_id))


def viewer_from(user: User, unit: OrgUnit | None) -> Viewer:
    if user.id is None or unit is None:
        raise Unauthorized("this account has no org unit; ask an admin")
    return Viewer(
        user.id, user.display_name, user.role, user.org_unit_id, unit.path, unit.parent_id is None
    )


def subtree_ids(path: str | BindParameter[str]) -> ColumnElement[bool]:
    """Orders whose org unit is in the subtree rooted at ``path``."""
    units = select(col(OrgUnit.id)).where(col(OrgUnit.path).startswith(path))
    return col(WorkOrder.org_unit_id).in_(units)


def visible(viewer: Viewer) -> ColumnElement[bool]:
    """The WHERE clause of the work orders ``viewer`` may see."""
    return _visible(visibility(viewer), viewer.user_id, viewer.org_path)


@dataclass(frozen=True)
class Visibility:
    """What shapes a viewer's access rule; their id and path are its values."""

    scope: str  # all | dispatched (handlers, lawyers) | root (and unplaced orders) | subtree
    confidential: bool  # sees confidential orders without being their assignee


def visibility(viewer: Viewer) -> Visibility:
    if viewer.role is Role.ADMIN:
        scope = "all"
    elif viewer.role in ORG_UNIT_ROLES:
        scope = "dispatched"
    else:
        scope = "root" if viewer.at_root else "subtree"
    return Visibility(scope, viewer.role in CONFIDENTIAL_READERS)


# Lists build their statement once per shape (backoffice.services.order_lists) with the
# viewer's values as these bind parameters.
VIEWER_ID, VIEWER_PATH = "viewer_id", "viewer_path"


def visible_params(viewer: Viewer) -> dict[str, object]:
    return {VIEWER_ID: viewer.user_id, VIEWER_PATH: viewer.org_path}


@lru_cache(maxsize=16)
def visible_clause(shape: Visibility) -> ColumnElement[bool]:
    """`visible` with the viewer's id and path as bind parameters (see `visible_params`)."""
    return _visible(shape, bindparam(VIEWER_ID), bindparam(VIEWER_PATH))


def _visible(
    shape: Visibility, user_id: int | BindParameter[int], path: str | BindParameter[str]
) -> ColumnElement[bool]:
    mine = col(WorkOrder.assignee_id) == user_id
    taken = col(WorkOrder.created_by_id) == user_id
    seen = or_(_in_scope(shape.scope, path), mine, taken)
    if shape.confidential:
        return seen
    return and_(seen, or_(col(WorkOrder.confidential).is_(False), mine))


def _in_scope(scope: str, path: str | BindParameter[str]) -> ColumnElement[bool]:
    if scope == "all":
        return true()
    in_subtree = subtree_ids(path)
    if scope == "dispatched":
        return and_(in_subtree, col(WorkOrder.status) != Status.ACCEPTED)
    if scope == "root":
        return or_(in_subtree, col(WorkOrder.org_unit_id).is_(None))
    return in_subtree


def masks_phone(viewer: Viewer, order: WorkOrder) -> bool:
    return masks_number(viewer.role, order.anonymous)


def masks_number(role: Role, anonymous: bool) -> bool:
    """Whether a caller's number is hidden from this role (orders and live calls alike)."""
    if role is Role.VIEWER:
        return True
    if role in CENTRE_ROLES:
        return False
    return anonymous


def acts_for_unit(viewer: Viewer, order: WorkOrder) -> bool:
    """Whether a handler or lawyer may act on the order: it is with their unit, or theirs."""
    return order.org_unit_id == viewer.org_unit_id or order.assignee_id == viewer.user_id
