"""From a finished call's facts to the work order it becomes: category, urgency, summary.

Pure: the call-event consumer feeds the `ended` event's data in and gives the result to the
work-order service. Every call becomes an order; a call that never reached a person (hung up
in the menu, used self-service only) is still one, with category `other` and a summary that
says so, so supervisors can see and filter what callers gave up on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backoffice.domain.deadlines import Category

# The IVR's topics and queue names -> the work-order categories.
_BY_NAME: dict[str, Category] = {
    "wage_arrears": Category.WAGE_ARREARS,
    "work_injury": Category.WORK_INJURY,
    "labor_contract": Category.LABOR_CONTRACT,
    "social_insurance": Category.SOCIAL_INSURANCE,
    "legal": Category.LEGAL_CONSULTATION,
    "legal_consultation": Category.LEGAL_CONSULTATION,
    "hardship_assistance": Category.HARDSHIP_ASSISTANCE,
    "suggestion": Category.SUGGESTION,
}
_LABELS = {
    Category.WAGE_ARREARS: "欠薪求助",
    Category.WORK_INJURY: "工伤咨询",
    Category.LABOR_CONTRACT: "劳动合同",
    Category.SOCIAL_INSURANCE: "社会保险",
    Category.LEGAL_CONSULTATION: "法律咨询",
    Category.HARDSHIP_ASSISTANCE: "困难帮扶",
    Category.SUGGESTION: "意见建议",
    Category.OTHER: "其他",
}
_RESULTS = {
    "hangup": "来电人在语音菜单中挂机",
    "done": "通话结束",
    "queue": "转人工",
    "error": "语音服务出错，已转人工",
    "overload": "语音服务繁忙，已转人工",
}
_MAX_SUMMARY = 2000


@dataclass(frozen=True)
class CallIntake:
    """What the work-order service needs to take a call in."""

    call_id: str
    caller: str
    category: Category
    summary: str
    urgent: bool
    reached_person: bool

    def as_call_event(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "caller": self.caller,
            "category": self.category.value,
            "summary": self.summary,
            "urgent": self.urgent,
        }


def category_of(data: Mapping[str, Any]) -> Category:
    """Speech classification first (the caller's own words), then the menu topic, the queue."""
    variables = _mapping(data.get("variables"))
    for name in (variables.get("speech_category"), variables.get("topic"), data.get("queue")):
        if isinstance(name, str) and name in _BY_NAME:
            return _BY_NAME[name]
    return Category.OTHER


def intake(call_id: str, data: Mapping[str, Any]) -> CallIntake:
    category = category_of(data)
    reached = bool(data.get("answered"))
    return CallIntake(
        call_id=call_id,
        caller=_text(data.get("caller"), 64),
        category=category,
        summary=summary(data, category)[:_MAX_SUMMARY],
        urgent=_mapping(data.get("variables")).get("urgent") in ("1", "yes", "true"),
        reached_person=reached,
    )


def summary(data: Mapping[str, Any], category: Category) -> str:
    """One line of Chinese a dispatcher reads at a glance: '来电：欠薪求助；排队12秒；…'."""
    parts = [f"来电：{_LABELS[category]}"]
    wait = data.get("wait_s")
    if isinstance(wait, int | float):
        parts.append(f"排队{round(wait)}秒")
    agent = data.get("agent")
    if data.get("answered") and isinstance(agent, str) and agent:
        talk = data.get("talk_s")
        talked = f"，通话{round(talk)}秒" if isinstance(talk, int | float) else ""
        parts.append(f"坐席{_text(agent, 16)}接听{talked}")
    elif data.get("abandoned"):
        parts.append("来电人排队时挂机")
    extras = _extras(data)
    parts.extend(extras)
    if not (data.get("answered") or data.get("abandoned") or extras):
        result = _RESULTS.get(str(data.get("result", "")))
        if result:
            parts.append(result)
    heard = _mapping(data.get("variables")).get("speech_text")
    if isinstance(heard, str) and heard.strip():
        parts.append(f"来电人陈述：{_text(heard, 500)}")
    return "；".join(parts)


def _extras(data: Mapping[str, Any]) -> list[str]:
    out = []
    if data.get("message"):
        out.append("已留言")
    if data.get("callback_requested"):
        out.append("要求回电")
    for transfer in data.get("transfers") or []:
        if isinstance(transfer, Mapping) and transfer.get("to"):
            out.append(f"转{_text(transfer.get('to'), 16)}")
    return out


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object, limit: int) -> str:
    """Printable text only: event data comes from outside and lands on pages."""
    raw = value if isinstance(value, str) else ""
    return "".join(ch for ch in raw if ch.isprintable())[:limit]
