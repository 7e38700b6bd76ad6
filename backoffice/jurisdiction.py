"""Proposing the org unit responsible for a caller from where their number is registered.

Mainland mobile numbers geocode to the city their block was issued in and landlines to their
area code's city ("湖南省娄底市"); that names a city union. A region naming several cities
(0731 serves Changsha, Zhuzhou and Xiangtan) proposes the provincial federation, and a number
from another province proposes nothing. It is only a proposal: a worker from Loudi may well
work in Changsha, and the dispatcher changes it with dispatch or redispatch.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from phonenumbers import geocoder
from sqlmodel import Session, col, select

from backoffice.models import OrgLevel, OrgUnit


@dataclass(frozen=True)
class Proposal:
    org_unit_id: int | None
    region: str  # what the number geocoded to, "" if nothing


def region_of(phone: str) -> str:
    """Where a number is registered, in Chinese ("湖南省娄底市"), or "" if unknown."""
    if not phone:
        return ""
    try:
        number = phonenumbers.parse(phone, "CN")
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return str(geocoder.description_for_number(number, "zh"))


def propose(session: Session, phone: str) -> Proposal:
    region = region_of(phone)
    if not region:
        return Proposal(None, "")
    return Proposal(_unit_for_region(session, region), region)


def _unit_for_region(session: Session, region: str) -> int | None:
    """The city union whose province + city name is the region, else the province's."""
    units = session.exec(
        select(OrgUnit).where(col(OrgUnit.level).in_([OrgLevel.PROVINCE, OrgLevel.CITY]))
    ).all()
    by_id = {unit.id: unit for unit in units}
    for unit in units:
        parent = by_id.get(unit.parent_id) if unit.parent_id is not None else None
        if parent is not None and unit.region_name and _full_name(parent, unit) == region:
            return unit.id
    for unit in units:
        # Province-level cities (北京市) geocode to the province name alone.
        if unit.parent_id is None and unit.region_name and region.startswith(unit.region_name):
            return unit.id
    return None


def _full_name(province: OrgUnit, city: OrgUnit) -> str:
    return province.region_name + city.region_name
