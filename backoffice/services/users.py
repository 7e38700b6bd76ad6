"""Back-office accounts: who they are, what role they have, where in the network they sit."""

from __future__ import annotations

from sqlmodel import Session, col, select

from backoffice.access import viewer_of
from backoffice.domain.lifecycle import Role
from backoffice.errors import Forbidden, Invalid, NotFound
from backoffice.models import OrgUnit, User, UserCreate, UserUpdate
from backoffice.passwords import hash_password

USER_READERS = frozenset({Role.ADMIN, Role.SUPERVISOR})


def by_username(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def list_users(session: Session, actor: User) -> list[User]:
    """Admins see every account, supervisors those of their own subtree."""
    if actor.role not in USER_READERS:
        raise Forbidden("only admins and supervisors list accounts")
    query = select(User).order_by(col(User.username))
    if actor.role is not Role.ADMIN:
        path = viewer_of(session, actor).org_path
        units = select(OrgUnit.id).where(col(OrgUnit.path).startswith(path))
        query = query.where(col(User.org_unit_id).in_(units))
    return list(session.exec(query).all())


def create(session: Session, data: UserCreate, actor: User) -> User:
    _require_admin(actor)
    _require_unit(session, data.org_unit_id)
    if by_username(session, data.username) is not None:
        raise Invalid(f"the username {data.username} is taken")
    user = User(**data.model_dump(exclude={"password"}), password_hash=hash_password(data.password))
    session.add(user)
    session.commit()
    return user


def update(session: Session, user_id: int, changes: UserUpdate, actor: User) -> User:
    _require_admin(actor)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    fields = changes.model_dump(exclude_unset=True, exclude={"password"})
    if fields.get("org_unit_id") is not None:
        _require_unit(session, fields["org_unit_id"])
    for name, value in fields.items():
        if value is not None:
            setattr(user, name, value)
    if changes.password is not None:
        user.password_hash = hash_password(changes.password)
    session.commit()
    return user


def _require_admin(actor: User) -> None:
    if actor.role is not Role.ADMIN:
        raise Forbidden("only admins manage accounts")


def _require_unit(session: Session, unit_id: int) -> None:
    if session.get(OrgUnit, unit_id) is None:
        raise Invalid(f"org unit {unit_id} does not exist")


# --- for the order pages (issue 5) ---------------------------------------------------------


def assignable_under(session: Session, org_path: str) -> list[User]:
    """Active handlers and lawyers of the subtree at ``org_path``: whom a dispatch may name."""
    units = select(OrgUnit.id).where(col(OrgUnit.path).startswith(org_path))
    query = (
        select(User)
        .where(
            col(User.org_unit_id).in_(units),
            col(User.role).in_([Role.HANDLER, Role.LAWYER]),
            col(User.active).is_(True),
        )
        .order_by(col(User.org_unit_id), col(User.username))
    )
    return list(session.exec(query).all())


def display_names(session: Session, ids: set[int]) -> dict[int, str]:
    """Names to show for user ids (assignees, takers); unknown ids are left out."""
    if not ids:
        return {}
    query = select(User).where(col(User.id).in_(sorted(ids)))
    return {u.id: u.display_name for u in session.exec(query).all() if u.id is not None}
