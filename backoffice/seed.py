"""Demo data: the Hunan federation's network down to one town station, and a user per role.

Only for demos and tests, and only when asked for (`python -m backoffice seed-demo`): the demo
passwords are published here, so a production database must never hold these accounts.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from backoffice.domain.lifecycle import Role
from backoffice.models import OrgUnit, OrgUnitCreate, User
from backoffice.passwords import hash_password
from backoffice.services import org_units

PROVINCE = ("湖南省总工会", "湖南省", "430000")

# (union, region as phone geocoding names it, GB/T 2260 code)
CITIES = (
    ("长沙市总工会", "长沙市", "430100"),
    ("株洲市总工会", "株洲市", "430200"),
    ("湘潭市总工会", "湘潭市", "430300"),
    ("衡阳市总工会", "衡阳市", "430400"),
    ("邵阳市总工会", "邵阳市", "430500"),
    ("岳阳市总工会", "岳阳市", "430600"),
    ("常德市总工会", "常德市", "430700"),
    ("张家界市总工会", "张家界市", "430800"),
    ("益阳市总工会", "益阳市", "430900"),
    ("郴州市总工会", "郴州市", "431000"),
    ("永州市总工会", "永州市", "431100"),
    ("怀化市总工会", "怀化市", "431200"),
    ("娄底市总工会", "娄底市", "431300"),
    ("湘西州总工会", "湘西土家族苗族自治州", "433100"),
)

LOUDI_COUNTIES = (
    ("娄星区总工会", "娄星区", "431302"),
    ("双峰县总工会", "双峰县", "431321"),
    ("新化县总工会", "新化县", "431322"),
    ("冷水江市总工会", "冷水江市", "431381"),
    ("涟源市总工会", "涟源市", "431382"),
)

# The town station's statistical code is left out rather than guessed.
TOWN = ("荷叶镇工会服务站", "荷叶镇", None)


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    role: Role
    unit: str  # the union's name
    password: str


DEMO_USERS = (
    DemoUser("admin", "系统管理员", Role.ADMIN, PROVINCE[0], "demo-admin-12351"),
    DemoUser("supervisor", "值班长", Role.SUPERVISOR, PROVINCE[0], "demo-supervisor-12351"),
    DemoUser("operator", "接线员", Role.OPERATOR, PROVINCE[0], "demo-operator-12351"),
    DemoUser("lawyer", "值班律师", Role.LAWYER, PROVINCE[0], "demo-lawyer-12351"),
    DemoUser("handler", "双峰县承办人", Role.HANDLER, "双峰县总工会", "demo-handler-12351"),
    DemoUser("viewer", "统计查看", Role.VIEWER, PROVINCE[0], "demo-viewer-12351"),
)


def demo(session: Session) -> list[DemoUser]:
    """Create whatever of the demo network and users is missing; return the demo accounts.

    Idempotent: existing units and users are left as they are (a changed password stays).
    """
    units = network(session)
    for spec in DEMO_USERS:
        _user(session, spec, units[spec.unit])
    session.commit()
    return list(DEMO_USERS)


def network(session: Session) -> dict[str, OrgUnit]:
    """The demo org units by name, created where missing."""
    root = _root(session)
    units = {root.name: root}
    for name, region, code in CITIES:
        units[name] = _child(session, root, name, region, code)
    loudi = units["娄底市总工会"]
    for name, region, code in LOUDI_COUNTIES:
        units[name] = _child(session, loudi, name, region, code)
    town_name, town_region, town_code = TOWN
    units[town_name] = _child(session, units["双峰县总工会"], town_name, town_region, town_code)
    session.flush()
    return units


def _root(session: Session) -> OrgUnit:
    name, region, code = PROVINCE
    query = select(OrgUnit).where(OrgUnit.name == name, OrgUnit.parent_id == None)  # noqa: E711
    return session.exec(query).first() or org_units.add_root(session, name, region, code)


def _child(session: Session, parent: OrgUnit, name: str, region: str, code: str | None) -> OrgUnit:
    query = select(OrgUnit).where(OrgUnit.parent_id == parent.id, OrgUnit.name == name)
    existing = session.exec(query).first()
    if existing is not None:
        return existing
    assert parent.id is not None
    data = OrgUnitCreate(parent_id=parent.id, name=name, region_name=region, region_code=code)
    return org_units.add_child(session, parent, data)


def _user(session: Session, spec: DemoUser, unit: OrgUnit) -> None:
    if session.exec(select(User).where(User.username == spec.username)).first() is not None:
        return
    assert unit.id is not None
    session.add(
        User(
            username=spec.username,
            display_name=spec.display_name,
            role=spec.role,
            org_unit_id=unit.id,
            password_hash=hash_password(spec.password),
        )
    )
