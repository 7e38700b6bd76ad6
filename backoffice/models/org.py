"""The union network work orders are dispatched through: province → city → county → town."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from backoffice.models.base import (
    MAX_ID,
    REQUEST_CONFIG,
    BackofficeModel,
    UTCDateTime,
    enum_column,
    utcnow,
)


class OrgLevel(StrEnum):
    PROVINCE = "province"
    CITY = "city"  # prefecture-level city or autonomous prefecture (州)
    COUNTY = "county"  # county, district or county-level city
    TOWN = "town"  # town or street union station (乡镇/街道工会服务站)


CHILD_LEVEL = {
    OrgLevel.PROVINCE: OrgLevel.CITY,
    OrgLevel.CITY: OrgLevel.COUNTY,
    OrgLevel.COUNTY: OrgLevel.TOWN,
}


class OrgUnitBase(BackofficeModel):
    name: str = Field(min_length=1, max_length=100)
    # The administrative area the union serves, as phone-number geocoding names it ("娄底市");
    # it is how a caller's number proposes a jurisdiction.
    region_name: str = Field(default="", max_length=50)
    # GB/T 2260 division code ("431300"); town stations use 9-digit statistical codes.
    region_code: str | None = Field(
        default=None, max_length=12, schema_extra={"pattern": r"^[0-9]{6,12}$"}
    )


class OrgUnitCreate(OrgUnitBase):
    model_config = REQUEST_CONFIG
    parent_id: int = Field(ge=1, le=MAX_ID)


class OrgUnit(OrgUnitBase, table=True):
    __tablename__ = "org_unit"
    __table_args__ = (
        UniqueConstraint("parent_id", "name"),
        # varchar_pattern_ops lets PostgreSQL use the index for LIKE '/1/3/%' in any collation.
        Index("ix_org_unit_path", "path", postgresql_ops={"path": "varchar_pattern_ops"}),
    )

    id: int | None = Field(default=None, primary_key=True)
    parent_id: int | None = Field(default=None, foreign_key="org_unit.id", index=True)
    level: OrgLevel = Field(sa_type=enum_column(OrgLevel))
    # Materialised path "/1/3/17/": a subtree is one indexed prefix match on both databases.
    path: str = Field(default="", max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OrgUnitPublic(OrgUnitBase):
    id: int
    parent_id: int | None
    level: OrgLevel
    path: str
