"""Back-office load: 1,000,000 work orders, the real API under uvicorn, an open-loop client.

For each database (SQLite, PostgreSQL) the benchmark fills a migrated database with work
orders once (cached under /var/tmp/hotline-bench/backoffice), starts the back office with
uvicorn in a separate process, and offers requests at a fixed, precomputed schedule (Poisson
arrivals at the offered rate) whatever the responses do: latency is measured from the
*scheduled* send time to the last byte of the response, so a slow server is not hidden by a
client that waits for it (no coordinated omission). Each scenario is measured at the first
rate (the target's, 200/s), then at the following rates in order until a step's p99 passes
100 ms; the highest rate with p99 <= 100 ms and no errors is what it sustains.

Scenarios (signed in as the provincial supervisor, who sees every order):
  list    GET /api/v1/work-orders with a realistic filter, then the next pages by cursor
  search  GET /api/v1/work-orders?q=... (employer, phone, number, words of the summary)
  detail  GET /api/v1/work-orders/{id} and /by-number/{number} of random orders

Run (from the checkout):
    .venv/bin/python benchmarks/backoffice.py [--backends sqlite,postgresql]
        [--scenarios list,search,detail,list-handler] [--rates 200,25,50,75,100,150,...]
        [--duration 12] [--workers 2] [--orders 1000000] [--regenerate]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import platform
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import uvloop

# Runs as a plain script from a checkout: make the project importable without installing.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from backoffice import seed  # noqa: E402
from backoffice.db import upgrade  # noqa: E402
from backoffice.domain import lifecycle as lc  # noqa: E402
from backoffice.domain.deadlines import Category  # noqa: E402
from backoffice.domain.numbering import format_number  # noqa: E402
from backoffice.identifiers import credit_code_check_char  # noqa: E402
from backoffice.models import OrgUnit, User  # noqa: E402
from backoffice.passwords import hash_password  # noqa: E402
from backoffice.services import auth  # noqa: E402
from backoffice.textgrams import register_sqlite  # noqa: E402
from hotline.db import make_engine, merge_text_indexes, refresh_statistics  # noqa: E402
from hotline.settings import load_settings  # noqa: E402

WORK_DIR = Path("/var/tmp/hotline-bench/backoffice")
PG_ADMIN_URL = "postgresql://hotline_test:hotline_test@127.0.0.1:5432/postgres"
PG_DATABASE = "hotline_bench"
# Bump when the generated data changes shape: a cached database of another version is rebuilt.
GENERATOR_VERSION = 1
SHANGHAI = ZoneInfo("Asia/Shanghai")
P99_LIMIT_MS = 100.0
TARGET_P99_MS = 25.0
WEEKS = 104  # two years of orders
TIMELINE_SHARE = 0.2  # orders that keep their timeline events (the rest: imported history)


# =============================================================================================
# Data: templates from the real lifecycle, shifted by whole weeks into two years of orders
# =============================================================================================
#
# Running the pure lifecycle for every one of a million orders would take half an hour on this
# machine (about 2 ms an order). Instead a few thousand *template* orders go through the real
# `lifecycle.apply` in one reference week, and each generated order is a template moved by a
# whole number of weeks: weekday and time of day stay, so the deadlines the lifecycle computed
# stay plausible (holidays aside). Which template an order gets depends on its age: last
# week's orders are still open, most orders from months ago are closed.

CATEGORY_WEIGHTS = {
    Category.WAGE_ARREARS: 40,
    Category.LABOR_CONTRACT: 15,
    Category.SOCIAL_INSURANCE: 12,
    Category.WORK_INJURY: 10,
    Category.LEGAL_CONSULTATION: 10,
    Category.HARDSHIP_ASSISTANCE: 5,
    Category.SUGGESTION: 3,
    Category.OTHER: 5,
}
S = lc.Status
# Final status by the order's age in days: (upper age, {status: weight}).
STATUS_BY_AGE: tuple[tuple[float, dict[lc.Status, int]], ...] = (
    (2, {S.ACCEPTED: 30, S.DISPATCHED: 35, S.SIGNED: 20, S.HANDLING: 15}),
    (
        7,
        {
            S.ACCEPTED: 4,
            S.DISPATCHED: 15,
            S.SIGNED: 20,
            S.HANDLING: 35,
            S.REPLIED: 15,
            S.RETURNED: 5,
            S.CLOSED: 6,
        },
    ),
    (
        30,
        {
            S.DISPATCHED: 3,
            S.SIGNED: 2,
            S.HANDLING: 15,
            S.REPLIED: 15,
            S.FEEDBACK: 5,
            S.RETURN_VISIT: 10,
            S.RETURNED: 3,
            S.REOPENED: 2,
            S.CLOSED: 45,
        },
    ),
    (
        1e9,
        {
            S.HANDLING: 2,
            S.REPLIED: 1,
            S.RETURN_VISIT: 2,
            S.REOPENED: 1,
            S.CLOSED: 94,
        },
    ),
)
CHANNELS = (("phone", 80), ("web", 10), ("12345", 7), ("app", 3))

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶"
    "程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺"
    "顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅文斌辉鹏飞玲兰云峰林春燕志宏海波亮"
PLACES = (
    "长沙",
    "株洲",
    "湘潭",
    "衡阳",
    "邵阳",
    "岳阳",
    "常德",
    "张家界",
    "益阳",
    "郴州",
    "永州",
    "怀化",
    "娄底",
    "湘西",
    "双峰",
    "新化",
    "涟源",
    "冷水江",
)
BRANDS = "鑫盛华联宏达恒泰金源顺发永兴天润博远嘉禾兴旺丰源瑞祥隆鑫新宇泰和鸿运中联德信安达"
TRADES = (
    "建筑工程",
    "建设劳务",
    "电子科技",
    "物流",
    "餐饮管理",
    "服装",
    "机械制造",
    "矿业",
    "物业服务",
    "商贸",
    "家政服务",
    "汽车销售",
    "食品",
    "装饰工程",
    "网络科技",
)
SITES = ("工地", "厂区", "门店", "项目部", "仓库", "车间")
SUMMARIES: dict[Category, tuple[str, ...]] = {
    Category.WAGE_ARREARS: (
        "{employer}拖欠{n}名工人{m}个月工资共计{amount}元，{place}{site}多次讨要未果，请求工会帮助追讨。",
        "来电人在{employer}{site}务工，老板拖欠工资{amount}元，包工头已联系不上。",
        "{employer}以效益不好为由拖欠工资{m}个月，约{amount}元，来电人要求协调发放。",
    ),
    Category.LABOR_CONTRACT: (
        "来电人在{employer}工作{m}年未签订劳动合同，现被口头辞退，咨询能否主张双倍工资。",
        "{employer}单方面变更劳动合同岗位并降薪，来电人不同意，请求工会介入协调。",
    ),
    Category.SOCIAL_INSURANCE: (
        "{employer}未给来电人缴纳社会保险{m}个月，要求单位补缴养老和医疗保险。",
        "来电人离职后{employer}拒不办理社保转移手续，请求帮助。",
    ),
    Category.WORK_INJURY: (
        "来电人在{employer}{site}作业时受伤，单位不申报工伤认定，医药费已花{amount}元。",
        "{employer}员工工伤认定后单位拒付停工留薪期工资，请求协助。",
    ),
    Category.LEGAL_CONSULTATION: (
        "咨询被{employer}辞退后经济补偿金如何计算，工作{m}年，月工资{amount}元。",
        "咨询劳动仲裁的申请流程和所需材料，与{employer}存在加班费争议。",
    ),
    Category.HARDSHIP_ASSISTANCE: (
        "来电人家庭困难，子女上学需要帮扶，咨询{place}工会困难职工帮扶政策。",
        "来电人患重病，申请工会医疗互助和困难帮扶。",
    ),
    Category.SUGGESTION: ("建议在{place}增设职工服务站点，方便农民工维权咨询。",),
    Category.OTHER: ("咨询工会会员卡办理和{place}工会服务站地址。",),
}
REPLIES = (
    "已联系用人单位核实情况，经协调单位同意分期支付。",
    "已告知来电人维权途径并转劳动监察部门处理。",
    "经工会调解，双方达成一致，单位已支付。",
)


@dataclass(frozen=True)
class Network:
    """The seeded union network as the generator needs it."""

    root_id: int
    cities: list[int]
    targets: list[int]  # where orders are dispatched, weighted by how busy the unit is
    operator: lc.Actor
    handlers: dict[int, lc.Actor]  # org unit id -> its handler


@dataclass(frozen=True)
class Template:
    """One order's lifecycle as the real domain played it, times relative to its creation."""

    offset: timedelta  # from the reference week's start to created_at
    category: Category
    state: lc.OrderState
    assignee_id: int | None
    outcome: str | None
    wages_fen: int | None
    duration: timedelta  # creation to the last event
    # (delta from creation, actor, action, from status, to status, note, data as JSON)
    events: tuple[tuple[timedelta, lc.Actor, str, str, str, str, str], ...]


def _weighted(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _office_offset(rng: random.Random) -> timedelta:
    """A moment in the reference week, mostly office hours in Beijing (the line is 8-21 h)."""
    day = rng.choices(range(7), weights=(18, 17, 17, 17, 16, 8, 7))[0]
    hour = rng.choices(range(24), weights=[1] * 7 + [6] * 11 + [4] * 3 + [1] * 3)[0]
    return timedelta(days=day, hours=hour, seconds=rng.randrange(3600))


def _hours(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(hours=rng.uniform(low, high))


# The steps after creation that lead to each final status.
PATHS: dict[lc.Status, tuple[str, ...]] = {
    S.ACCEPTED: (),
    S.DISPATCHED: ("dispatch",),
    S.SIGNED: ("dispatch", "sign"),
    S.HANDLING: ("dispatch", "sign", "start"),
    S.REPLIED: ("dispatch", "sign", "start", "reply"),
    S.FEEDBACK: ("dispatch", "sign", "start", "reply", "feedback"),
    S.RETURN_VISIT: ("dispatch", "sign", "start", "reply", "unreached"),
    S.CLOSED: ("dispatch", "sign", "start", "reply", "satisfied"),
    S.RETURNED: ("dispatch", "return"),
    S.REOPENED: ("dispatch", "sign", "start", "reply", "unsatisfied"),
}


@dataclass(frozen=True)
class Step:
    command: lc.Command
    actor: lc.Actor
    delay: timedelta
    outcome: str | None = None
    wages_fen: int | None = None


def _step(rng: random.Random, step: str, unit_id: int, net: Network, category: Category) -> Step:
    handler, operator = net.handlers[unit_id], net.operator
    if step == "dispatch":
        return Step(lc.Dispatch(unit_id), operator, _hours(rng, 0.1, 3))
    if step == "sign":
        return Step(lc.Sign(), handler, _hours(rng, 0.5, 20))
    if step == "start":
        return Step(lc.StartHandling(), handler, _hours(rng, 0.5, 30))
    if step == "reply":
        wages = category is Category.WAGE_ARREARS and rng.random() < 0.5
        outcome = "wages_recovered" if wages else rng.choice(("mediated", "answered"))
        fen = rng.randrange(200_000, 8_000_000) if wages else None
        return Step(lc.Reply(rng.choice(REPLIES)), handler, _hours(rng, 20, 200), outcome, fen)
    if step == "return":
        return Step(lc.ReturnOrder("不属于本单位管辖"), handler, _hours(rng, 0.2, 1))
    visits: dict[str, lc.Command] = {
        "feedback": lc.RecordFeedback("来电人表示已收到回复"),
        "unreached": lc.ReturnVisit(None, "回访未接通"),
        "satisfied": lc.ReturnVisit(rng.choice((3, 4, 5, 5, 5)), "回访满意"),
        "unsatisfied": lc.ReturnVisit(1, "来电人不满意"),
    }
    return Step(visits[step], operator, _hours(rng, 20, 96))


def make_template(rng: random.Random, status: lc.Status, week0: datetime, net: Network) -> Template:
    offset = _office_offset(rng)
    created = week0 + offset
    category: Category = _weighted(rng, CATEGORY_WEIGHTS)
    state = lc.new_order(category, created, urgent=rng.random() < 0.03)
    unit_id = rng.choice(net.targets)
    at, outcome, fen, assignee = created, None, None, None
    events = []
    for name in PATHS[status]:
        step = _step(rng, name, unit_id, net, category)
        at += step.delay
        transition = lc.apply(state, step.command, step.actor, at)
        state, entry = transition.state, transition.entry
        if name == "sign":
            assignee = step.actor.user_id
        elif name == "return":
            assignee = None
        outcome, fen = step.outcome or outcome, step.wages_fen or fen
        data = dict(entry.data)
        if name == "dispatch":
            data["assignee_id"] = None
        events.append(
            (
                at - created,
                step.actor,
                entry.action.value,
                entry.from_status.value,
                entry.to_status.value,
                entry.note,
                json.dumps(data, ensure_ascii=False),
            )
        )
    return Template(offset, category, state, assignee, outcome, fen, at - created, tuple(events))


class TemplateBook:
    """Templates per final status."""

    def __init__(self, rng: random.Random, week0: datetime, net: Network):
        self.by_status = {
            status: [
                make_template(rng, status, week0, net)
                for _ in range(50 if status is S.ACCEPTED else 300)
            ]
            for status in PATHS
        }

    def pick(
        self, rng: random.Random, status: lc.Status, week_start: datetime, now: datetime
    ) -> Template | None:
        """A template of ``status`` whose events all lie before ``now`` when it starts in the
        week of ``week_start``; else an accepted one; None if even that would be in the future
        (the current week)."""
        for _ in range(8):
            template = rng.choice(self.by_status[status])
            if week_start + template.offset + template.duration <= now:
                return template
        template = rng.choice(self.by_status[S.ACCEPTED])
        return template if week_start + template.offset <= now else None


@dataclass(frozen=True)
class People:
    """Pools of callers and employers: repeat callers and employers link orders together."""

    phones: list[str]
    names: list[str]
    employers: list[tuple[str, str]]  # (name, unified social credit code)


def _phone(rng: random.Random) -> str:
    if rng.random() < 0.9:
        return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
    area = rng.choice(("731", "738", "734", "730", "736", "737"))
    return f"0{area}{rng.randrange(10**7):07d}"


CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _credit_code(rng: random.Random) -> str:
    # 9 = registered by the market regulator, 1 = an enterprise, then a Hunan region code.
    region = rng.choice(("430100", "430200", "431300", "430400", "430600"))
    first17 = "91" + region + "".join(rng.choice(CREDIT_CHARS) for _ in range(9))
    return first17 + credit_code_check_char(first17)


def make_people(rng: random.Random, orders: int) -> People:
    phones = [_phone(rng) for _ in range(max(1000, int(orders * 0.7)))]
    names = [
        rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        for _ in range(5000)
    ]
    employers = [
        (
            f"{rng.choice(PLACES)}{rng.choice(BRANDS)}{rng.choice(BRANDS)}"
            f"{rng.choice(TRADES)}有限公司",
            _credit_code(rng),
        )
        for _ in range(max(200, orders // 30))
    ]
    return People(phones, names, employers)


# Column order of the generated rows (both databases).
ORDER_COLUMNS = [
    "id",
    "number",
    "call_id",
    "channel",
    "caller_name",
    "caller_phone",
    "anonymous",
    "confidential",
    "employer_name",
    "employer_credit_code",
    "category",
    "summary",
    "transcript",
    "status",
    "org_unit_id",
    "assignee_id",
    "created_by_id",
    "urgent",
    "urgent_since",
    "dispatched_at",
    "sign_due",
    "reply_due",
    "return_due",
    "extension_pending_days",
    "extension_pending_reason",
    "extension_approved_days",
    "supervised",
    "remind_count",
    "reopen_count",
    "satisfaction",
    "outcome",
    "wages_recovered_fen",
    "created_at",
    "updated_at",
    "version",
]
EVENT_COLUMNS = [
    "work_order_id",
    "at",
    "actor_id",
    "actor_name",
    "actor_role",
    "action",
    "from_status",
    "to_status",
    "note",
    "data",
]


@dataclass
class Batch:
    orders: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)


def reference_week(now: datetime) -> datetime:
    """Monday 00:00 Beijing time, WEEKS weeks before the week of ``now``."""
    local = now.astimezone(SHANGHAI)
    monday = (local - timedelta(days=local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return (monday - timedelta(weeks=WEEKS)).astimezone(UTC)


def _shift(moment: datetime | None, by: timedelta) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC) + by


def _status_for(rng: random.Random, age_days: float) -> lc.Status:
    for upper, weights in STATUS_BY_AGE:
        if age_days < upper:
            status: lc.Status = _weighted(rng, weights)
            return status
    raise AssertionError("the last age band is open-ended")


def _summary(rng: random.Random, category: Category, employer: str) -> str:
    return rng.choice(SUMMARIES[category]).format(
        employer=employer or "某公司",
        n=rng.randrange(2, 60),
        m=rng.randrange(1, 13),
        amount=rng.randrange(20, 800) * 100,
        place=rng.choice(PLACES),
        site=rng.choice(SITES),
    )


class OrderFactory:
    """Rows for `orders` work orders over two years before ``now``, in id (= time) order."""

    def __init__(self, orders: int, seed_value: int, now: datetime, net: Network):
        self.rng = random.Random(seed_value)
        self.net = net
        self.week0 = reference_week(now)
        self.book = TemplateBook(self.rng, self.week0, net)
        self.people = make_people(self.rng, orders)
        self.last_seq: dict[str, int] = {}  # local day (ISO) -> its last order number
        self.picks = self._plan(orders, now)

    def _plan(self, orders: int, now: datetime) -> list[tuple[datetime, Template]]:
        picks: list[tuple[datetime, Template]] = []
        while len(picks) < orders:
            start = self.week0 + timedelta(weeks=self.rng.randrange(WEEKS + 1))
            age_days = (now - start).total_seconds() / 86400 - 3.5
            status = _status_for(self.rng, age_days)
            template = self.book.pick(self.rng, status, start, now)
            if template is not None:
                picks.append((start + template.offset, template))
        picks.sort(key=lambda pick: pick[0])
        return picks

    def batches(self, size: int = 20_000) -> Iterator[Batch]:
        batch = Batch()
        for order_id, (created, template) in enumerate(self.picks, start=1):
            batch.orders.append(self._order(order_id, created, template))
            if self.rng.random() < TIMELINE_SHARE:
                batch.events.extend(self._events(order_id, created, template, batch.orders[-1]))
            if len(batch.orders) >= size:
                yield batch
                batch = Batch()
        if batch.orders:
            yield batch

    def _number(self, created: datetime) -> str:
        day = created.astimezone(SHANGHAI).date()
        seq = self.last_seq.get(day.isoformat(), 0) + 1
        self.last_seq[day.isoformat()] = seq
        return format_number(day, seq)

    def _org_unit(self, template: Template) -> int | None:
        if template.state.org_unit_id is not None:
            return template.state.org_unit_id
        # Accepted: the unit proposed from the caller's number (a city, the province for a
        # shared area code), or none for another province's number.
        roll = self.rng.random()
        if roll < 0.7:
            return self.rng.choice(self.net.cities)
        return self.net.root_id if roll < 0.9 else None

    def _order(self, order_id: int, created: datetime, template: Template) -> tuple[Any, ...]:
        rng, state = self.rng, template.state
        by = created - (self.week0 + template.offset)
        channel = _weighted(rng, dict(CHANNELS))
        anonymous = rng.random() < 0.08
        employer, credit = "", ""
        personal = template.category in (Category.HARDSHIP_ASSISTANCE, Category.SUGGESTION)
        if not personal and rng.random() < 0.85:
            employer, credit = rng.choice(self.people.employers)
            credit = credit if rng.random() < 0.4 else ""
        by_operator = channel in ("phone", "app") and rng.random() < 0.6
        return (
            order_id,
            self._number(created),
            f"{int(created.timestamp())}.{order_id}" if channel == "phone" else None,
            channel,
            "" if anonymous else rng.choice(self.people.names),
            rng.choice(self.people.phones),
            anonymous,
            rng.random() < 0.02,  # confidential
            employer,
            credit,
            template.category.value,
            _summary(rng, template.category, employer),
            "",
            state.status.value,
            self._org_unit(template),
            template.assignee_id,
            self.net.operator.user_id if by_operator else None,
            state.urgent,
            _shift(state.urgent_since, by),
            _shift(state.dispatched_at, by),
            _shift(state.deadlines.sign_due, by),
            _shift(state.deadlines.reply_due, by),
            _shift(state.deadlines.return_due, by),
            state.extension.pending_days,
            state.extension.pending_reason,
            state.extension.approved_days,
            state.supervised,
            state.remind_count,
            state.reopen_count,
            state.satisfaction,
            template.outcome,
            template.wages_fen,
            created,
            created + template.duration,
            1 + len(template.events),
        )

    def _events(
        self, order_id: int, created: datetime, template: Template, row: tuple[Any, ...]
    ) -> list[tuple[Any, ...]]:
        channel, by_operator = row[3], row[16] is not None
        operator = self.net.operator
        name = operator.name if by_operator else ("web form" if channel == "web" else "ivr")
        create = (
            order_id,
            created,
            operator.user_id if by_operator else None,
            name,
            operator.role.value if by_operator else None,
            "create",
            None,
            "accepted",
            "",
            json.dumps({"channel": channel, "org_unit_id": row[14]}),
        )
        events = [create]
        for delta, actor, action, from_status, to_status, note, data in template.events:
            events.append(
                (
                    order_id,
                    created + delta,
                    actor.user_id,
                    actor.name,
                    actor.role.value,
                    action,
                    from_status,
                    to_status,
                    note,
                    data,
                )
            )
        return events


# =============================================================================================
# Databases: migrate, seed, bulk load (executemany / COPY), cache
# =============================================================================================


@dataclass(frozen=True)
class Target:
    backend: str  # sqlite | postgresql
    url: str
    meta_path: Path


def target(backend: str, orders: int) -> Target:
    if backend == "sqlite":
        path = WORK_DIR / f"sqlite-{orders}.db"
        return Target(backend, f"sqlite:///{path}", WORK_DIR / f"sqlite-{orders}.json")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{PG_DATABASE}"
    return Target(backend, url, WORK_DIR / f"postgresql-{orders}.json")


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    from backoffice.db import alembic_config

    return ",".join(sorted(ScriptDirectory.from_config(alembic_config()).get_heads()))


def cached(tgt: Target, orders: int) -> dict[str, Any] | None:
    """The cache's description if the database holds this generator's data, else None."""
    if not tgt.meta_path.exists():
        return None
    meta: dict[str, Any] = json.loads(tgt.meta_path.read_text())
    if meta.get("version") != GENERATOR_VERSION or meta.get("orders") != orders:
        return None
    try:
        engine = create_engine(tgt.url)
        with engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM work_order")).scalar_one()
        engine.dispose()
    except Exception:
        return None
    return meta if count == orders else None


def fresh_database(tgt: Target) -> None:
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    if tgt.backend == "sqlite":
        path = Path(tgt.url.removeprefix("sqlite:///"))
        for leftover in (
            path,
            path.with_name(path.name + "-wal"),
            path.with_name(path.name + "-shm"),
        ):
            leftover.unlink(missing_ok=True)
        return
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{PG_DATABASE}"'))
    admin.dispose()


BENCH_PASSWORD_HASH: list[str] = []


def seed_network(engine: Engine) -> Network:
    """The demo network and users, plus one handler per unit that has none."""
    with Session(engine) as session:
        seed.demo(session)
        units = list(session.exec(select(OrgUnit).order_by(OrgUnit.id)).all())
        users = list(session.exec(select(User)).all())
        handlers = {u.org_unit_id: u for u in users if u.role is lc.Role.HANDLER}
        shared_hash = hash_password(os.urandom(16).hex())  # nobody signs in with these
        for unit in units:
            if unit.parent_id is not None and unit.id not in handlers:
                user = User(
                    username=f"bench-handler-{unit.id}",
                    display_name=f"{unit.region_name}承办人",
                    role=lc.Role.HANDLER,
                    org_unit_id=unit.id,
                    password_hash=shared_hash,
                )
                session.add(user)
                handlers[unit.id] = user
        session.commit()
        operator = next(u for u in users if u.username == "operator")
        root = next(u for u in units if u.parent_id is None)
        cities = [u.id for u in units if u.level == "city" and u.id is not None]
        targets = []
        for unit in units:
            weight = {"city": 4, "county": 2, "town": 1}.get(unit.level, 0)
            targets += [unit.id] * (weight * (3 if unit.region_name == "长沙市" else 1))
        return Network(
            root_id=root.id or 0,
            cities=cities,
            targets=[t for t in targets if t is not None],
            operator=lc.Actor(operator.id, operator.display_name, operator.role),
            handlers={uid: lc.Actor(h.id, h.display_name, h.role) for uid, h in handlers.items()},
        )


def _sqlite_time(moment: datetime) -> str:
    # SQLAlchemy's SQLite DateTime format; UTCDateTime stores naive UTC.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _insert(table: str, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({','.join(columns)}) VALUES ({','.join('?' * len(columns))})"


LOADED_TABLES = ("work_order", "work_order_event")


def load_sqlite(tgt: Target, factory: OrderFactory) -> None:
    sqlite3.register_adapter(datetime, _sqlite_time)
    con = sqlite3.connect(tgt.url.removeprefix("sqlite:///"))
    register_sqlite(con)  # the gram table's triggers call it for every order
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-400000")
    orders = _insert("work_order", ORDER_COLUMNS)
    events = _insert("work_order_event", EVENT_COLUMNS)
    # The migrations' indexes are dropped for the load and rebuilt from their own definitions
    # afterwards: building an index once is several times faster than maintaining it per row.
    # (Indexes behind UNIQUE constraints have no SQL and stay.)
    marks = ",".join("?" * len(LOADED_TABLES))
    indexes = con.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({marks})",
        LOADED_TABLES,
    ).fetchall()
    with con:
        for name, _sql in indexes:
            con.execute(f'DROP INDEX "{name}"')
        for batch in factory.batches():
            con.executemany(orders, batch.orders)
            con.executemany(events, batch.events)
            _progress(batch.orders[-1][0], len(factory.picks))
        con.executemany(
            "INSERT INTO order_sequence (day, last_seq) VALUES (?, ?)",
            sorted(factory.last_seq.items()),
        )
        for _name, sql in indexes:
            con.execute(sql)
    con.execute("ANALYZE")
    con.close()


def load_postgresql(tgt: Target, factory: OrderFactory) -> None:
    import psycopg

    with psycopg.connect(tgt.url) as con:
        with con.cursor() as cur:
            # As for SQLite, the indexes not behind a constraint are rebuilt after the load,
            # and the foreign keys are added back (one validating pass instead of a lookup per
            # row).
            deferred = _pg_deferred_ddl(cur)
            for drop, _create in deferred:
                cur.execute(drop)
            for batch in factory.batches():
                with cur.copy(f"COPY work_order ({','.join(ORDER_COLUMNS)}) FROM STDIN") as copy:
                    for row in batch.orders:
                        copy.write_row(row)
                with cur.copy(
                    f"COPY work_order_event ({','.join(EVENT_COLUMNS)}) FROM STDIN"
                ) as copy:
                    for row in batch.events:
                        copy.write_row(row)
                _progress(batch.orders[-1][0], len(factory.picks))
            cur.executemany(
                "INSERT INTO order_sequence (day, last_seq) VALUES (%s, %s)",
                sorted(factory.last_seq.items()),
            )
            for table in LOADED_TABLES:
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            cur.execute("SET maintenance_work_mem = '256MB'")
            for _drop, create in deferred:
                cur.execute(create)
        con.commit()
        con.autocommit = True
        con.execute("VACUUM ANALYZE")


def _pg_deferred_ddl(cur: Any) -> list[tuple[str, str]]:
    """(drop, create) for the loaded tables' plain indexes and foreign keys."""
    tables = list(LOADED_TABLES)
    cur.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " WHERE i.indrelid::regclass::text = ANY(%s)"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        (tables,),
    )
    ddl = [(f"DROP INDEX {name}", create) for name, create in cur.fetchall()]
    cur.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)",
        (tables,),
    )
    for table, name, definition in cur.fetchall():
        drop = f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'
        ddl.append((drop, f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))
    return ddl


def _progress(done: int, total: int) -> None:
    if done % 200_000 < 20_000 or done == total:
        print(f"  {done:>9,} / {total:,} work orders", flush=True)


def prepare(tgt: Target, orders: int, seed_value: int, regenerate: bool) -> dict[str, Any]:
    """A migrated database with the generated orders: the cached one, or built now."""
    meta = None if regenerate else cached(tgt, orders)
    if meta is not None:
        upgrade(tgt.url)  # a newer migration (e.g. a search index) fills itself from the rows
        if meta.get("revision") != head_revision():
            meta["revision"] = head_revision()
            tgt.meta_path.write_text(json.dumps(meta, indent=1))
        print(f"{tgt.backend}: reusing {orders:,} generated work orders ({tgt.meta_path})")
        maintain(tgt)
        return meta
    print(f"{tgt.backend}: generating {orders:,} work orders...", flush=True)
    started = time.monotonic()
    fresh_database(tgt)
    upgrade(tgt.url)
    engine = create_engine(tgt.url)
    net = seed_network(engine)
    engine.dispose()
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    factory = OrderFactory(orders, seed_value, now, net)
    planned = time.monotonic() - started
    (load_sqlite if tgt.backend == "sqlite" else load_postgresql)(tgt, factory)
    meta = {
        "version": GENERATOR_VERSION,
        "orders": orders,
        "seed": seed_value,
        "generated_at": now.isoformat(),
        "revision": head_revision(),
        "seconds": round(time.monotonic() - started, 1),
        "planning_seconds": round(planned, 1),
    }
    tgt.meta_path.write_text(json.dumps(meta, indent=1))
    print(f"{tgt.backend}: generated in {meta['seconds']} s", flush=True)
    maintain(tgt)
    return meta


def maintain(tgt: Target) -> None:
    """What the back office does to a SQLite database within minutes of starting and daily:
    its full-text indexes merged (a load leaves each in ten or more segments), statistics.
    PostgreSQL: the database read into its buffers (`prewarm`)."""
    if tgt.backend != "sqlite":
        prewarm(tgt)
        return
    started = time.monotonic()
    engine = make_engine(load_settings(database_url=tgt.url))
    try:
        steps = merge_text_indexes(engine)
        refresh_statistics(engine)
    finally:
        engine.dispose()
    print(
        f"sqlite: text indexes merged ({steps} steps), ANALYZE, in "
        f"{time.monotonic() - started:.1f} s",
        flush=True,
    )


def prewarm(tgt: Target) -> None:
    """PostgreSQL: every table and index read into shared buffers (pg_prewarm), and a warning
    if they do not fit. A database server keeps its working set in memory; on a machine
    whose kernel pages out file cache left idle (seen on these VMs: DAMON's reclaim), a
    database bigger than `shared_buffers` measured disk reads instead: 0.2-9 MB/s read and
    up to 23 % I/O wait during a run, p99 in the hundreds of ms at 150 req/s."""
    engine = create_engine(tgt.url)
    try:
        with engine.connect() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
            blocks = conn.execute(text(PREWARM)).scalar_one()
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
            buffers = conn.execute(text(SHARED_BUFFERS)).scalar_one()
            conn.commit()
    finally:
        engine.dispose()
    print(
        f"postgresql: {blocks:,} blocks prewarmed; database {size / 2**20:,.0f} MiB, "
        f"shared_buffers {buffers / 2**20:,.0f} MiB",
        flush=True,
    )
    if buffers < size:
        print(
            "postgresql: WARNING the database does not fit in shared_buffers: "
            "reads may go to the disk",
            flush=True,
        )


SHARED_BUFFERS = "SELECT setting::bigint * 8192 FROM pg_settings WHERE name = 'shared_buffers'"
PREWARM = """
SELECT coalesce(sum(pg_prewarm(c.oid::regclass)), 0) FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 'm', 't')
"""


def issue_tokens(url: str, usernames: Sequence[str]) -> dict[str, str]:
    """Bearer tokens for seeded users, issued the way a login issues them (no Argon2 wait)."""
    engine = create_engine(url)
    with Session(engine) as session:
        tokens = {}
        for name in usernames:
            user = session.exec(select(User).where(User.username == name)).one()
            tokens[name] = auth.issue_token(session, user)[0]
    engine.dispose()
    return tokens


@dataclass(frozen=True)
class Fixtures:
    """What the scenarios ask for: real ids, numbers, units, assignees, search words."""

    max_id: int
    numbers: list[str]
    units: dict[str, int]  # org unit name -> id
    handler_ids: list[int]
    phones: list[str]
    employers: list[str]


def fixtures(url: str, rng: random.Random) -> Fixtures:
    engine = create_engine(url)
    with engine.connect() as conn:
        max_id = conn.execute(text("SELECT max(id) FROM work_order")).scalar_one()
        ids = [rng.randrange(1, max_id + 1) for _ in range(3000)]
        rows = conn.execute(
            text("SELECT number, caller_phone, employer_name FROM work_order WHERE id IN :ids")
            .bindparams(_expanding("ids"))
            .bindparams(ids=ids)
        ).all()
        units = dict(conn.execute(text("SELECT name, id FROM org_unit")).all())
        handlers = conn.execute(text("SELECT id FROM \"user\" WHERE role = 'handler'")).scalars()
        handler_ids = list(handlers)
    engine.dispose()
    return Fixtures(
        max_id,
        [r[0] for r in rows],
        units,
        handler_ids,
        [r[1] for r in rows],
        [r[2] for r in rows if r[2]],
    )


def _expanding(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name, expanding=True)


# =============================================================================================
# The server: the real app under uvicorn, in its own process
# =============================================================================================


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def stop(self) -> None:
        """Ask uvicorn to shut down, then kill what is left of its process group (workers
        still finishing requests the overloaded last step left behind)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def start_server(url: str, workers: int, backend: str) -> Server:
    port = free_port()
    log = WORK_DIR / f"uvicorn-{backend}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env |= {"HOTLINE_DATABASE_URL": url, "HOTLINE_VAR_DIR": str(WORK_DIR / "var")}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "backoffice.app:create_app_from_environment",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--http",
        "httptools",
        "--loop",
        "uvloop",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True
        )
    server = Server(process, port, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited: see {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"uvicorn did not listen within 60 s: see {log}")


def process_tree_cpu(root_pid: int) -> float:
    """CPU seconds (user + system) of a process and its children, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = {root_pid}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                raw = (entry / "stat").read_text()
            except OSError:
                continue
            stats[int(entry.name)] = raw[raw.rindex(")") + 2 :].split()
    changed = True
    while changed:
        changed = False
        for pid, fields in stats.items():
            if pid not in pids and int(fields[1]) in pids:
                pids.add(pid)
                changed = True
    for pid in pids:
        if pid in stats:
            total += (int(stats[pid][11]) + int(stats[pid][12])) / ticks
    return total


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


# =============================================================================================
# The client: plain HTTP/1.1 keep-alive on asyncio streams, sending on a fixed schedule
# =============================================================================================
#
# A full client library costs several times the CPU per request of these few lines, and on a
# 2-core machine the load generator's CPU is taken from the server under test.


class HttpError(Exception):
    pass


class _ClosedWhileIdle(Exception):
    """A reused keep-alive connection was closed by the server before any answer."""


class Connections:
    """Keep-alive connections to the server; a new one whenever all are busy (up to a cap)."""

    def __init__(self, port: int, cap: int = 1000):
        self.port = port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.open = 0
        self.cap = cap
        self.freed = asyncio.Condition()

    async def get(self, path: str, token: str) -> tuple[int, bytes]:
        try:
            return await self._get(path, token, fresh=False)
        except _ClosedWhileIdle:
            # The server closed this keep-alive connection (idle past uvicorn's 5 s) as the
            # request went out, before any answer: what any HTTP client does, send it again on
            # a new connection. The wait still counts: latency runs from the scheduled time.
            return await self._get(path, token, fresh=True)

    async def _get(self, path: str, token: str, fresh: bool) -> tuple[int, bytes]:
        reused = not fresh and bool(self.idle)
        reader, writer = await (self._connect() if fresh else self._acquire())
        try:
            request = (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
            )
            writer.write(request.encode())
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionResetError) as exc:
                partial = getattr(exc, "partial", b"")
                if reused and not partial:
                    raise _ClosedWhileIdle from exc
                raise
            status, length = _parse_head(head)
            body = await reader.readexactly(length)
        except BaseException:
            writer.close()
            self.open -= 1
            async with self.freed:
                self.freed.notify()
            raise
        self.idle.append((reader, writer))
        async with self.freed:
            self.freed.notify()
        return status, body

    async def _acquire(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while True:
            if self.idle:
                return self.idle.pop()
            if self.open < self.cap:
                return await self._connect()
            async with self.freed:
                await self.freed.wait()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        self.open += 1
        try:
            return await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            self.open -= 1
            raise

    def close(self) -> None:
        for _reader, writer in self.idle:
            writer.close()
        self.idle.clear()


def _parse_head(head: bytes) -> tuple[int, int]:
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return status, int(value)
    raise HttpError(f"no Content-Length in {lines[0]!r}")


# =============================================================================================
# Scenarios
# =============================================================================================


@dataclass(frozen=True)
class Request:
    kind: str  # what the report groups by: list-first, list-next, detail-id, ...
    path: str
    params: tuple[tuple[str, str], ...] = ()  # the list's filters, kept to follow the cursor


def _url(path: str, params: Sequence[tuple[str, str]]) -> str:
    return f"{path}?{urllib.parse.urlencode(list(params))}" if params else path


LIST = "/api/v1/work-orders"
PAGES_PER_LIST = 5  # a first page, then up to four next pages by cursor


class Scenario:
    """Makes the next request; told each response, so lists can follow their cursors."""

    name = ""
    user = "supervisor"

    def __init__(self, fx: Fixtures, rng: random.Random):
        self.fx = fx
        self.rng = rng
        self.pending: deque[tuple[tuple[tuple[str, str], ...], str, int]] = deque()

    def next(self) -> Request:
        raise NotImplementedError

    def done(self, request: Request, body: bytes) -> None:
        """Queue the next page of a list that has one, up to PAGES_PER_LIST pages."""
        if not request.kind.startswith("list"):
            return
        cursor = json.loads(body).get("next_cursor")
        depth = dict(request.params).get("_depth")
        page = int(depth) if depth else 1
        if cursor and page < PAGES_PER_LIST:
            params = tuple(p for p in request.params if p[0] not in ("cursor", "_depth"))
            self.pending.append((params, cursor, page + 1))

    def _list(self, first: tuple[tuple[str, str], ...], kind: str) -> Request:
        if self.pending and self.rng.random() < 0.8:
            params, cursor, page = self.pending.popleft()
            full = (*params, ("cursor", cursor))
            return Request(f"{kind}-next", _url(LIST, full), (*full, ("_depth", str(page))))
        return Request(f"{kind}-first", _url(LIST, first), first)


class ListScenario(Scenario):
    """The lists a dispatcher and a supervisor work from, 20 orders a page."""

    name = "list"

    def filters(self) -> list[tuple[tuple[str, str], ...]]:
        u, rng = self.fx.units, self.rng
        month = datetime.now(UTC) - timedelta(days=rng.randrange(30, 700))
        return [
            (),
            (("status", "accepted"),),
            (("status", "dispatched"),),
            (("status", "signed"), ("status", "handling")),
            (("status", "reopened"),),
            (("category", "wage_arrears"),),
            (("category", "work_injury"), ("status", "closed")),
            (("org_unit_id", str(u["娄底市总工会"])),),
            (("org_unit_id", str(u["双峰县总工会"])), ("status", "handling")),
            (("org_unit_id", str(u["长沙市总工会"])), ("category", "wage_arrears")),
            (("overdue", "true"),),
            (("assignee_id", str(rng.choice(self.fx.handler_ids))),),
            (
                ("created_from", month.isoformat()),
                ("created_to", (month + timedelta(days=30)).isoformat()),
            ),
        ]

    def next(self) -> Request:
        first = (*self.rng.choice(self.filters()), ("limit", "20"))
        return self._list(first, "list")


class HandlerListScenario(ListScenario):
    """A county handler's lists: only what was dispatched into the county."""

    name = "list-handler"
    user = "handler"

    def filters(self) -> list[tuple[tuple[str, str], ...]]:
        return [(), (("status", "dispatched"),), (("status", "handling"),), (("overdue", "true"),)]


class DetailScenario(Scenario):
    """Opening an order: by id from a list, by number as a caller quotes it."""

    name = "detail"

    def next(self) -> Request:
        if self.rng.random() < 0.2:
            number = self.rng.choice(self.fx.numbers)
            return Request("detail-number", f"{LIST}/by-number/{number}")
        return Request("detail-id", f"{LIST}/{self.rng.randrange(1, self.fx.max_id + 1)}")


SEARCH_WORDS = ("拖欠工资", "工伤", "社会保险", "劳动合同", "经济补偿", "加班费", "包工头", "帮扶")


class SearchScenario(Scenario):
    """The search box: an employer, a caller's number, an order number, words of a summary."""

    name = "search"

    def next(self) -> Request:
        roll, rng = self.rng.random(), self.rng
        if roll < 0.3:
            employer = rng.choice(self.fx.employers)
            q = employer[2:6] if rng.random() < 0.5 else employer
        elif roll < 0.55:
            q = rng.choice(self.fx.phones)
        elif roll < 0.7:
            q = rng.choice(self.fx.numbers)
        else:
            q = rng.choice(SEARCH_WORDS)
        return self._list((("q", q), ("limit", "20")), "search")


SCENARIOS: dict[str, type[Scenario]] = {
    s.name: s for s in (ListScenario, SearchScenario, DetailScenario, HandlerListScenario)
}


# =============================================================================================
# Steps: an open-loop run at one rate
# =============================================================================================


@dataclass
class StepResult:
    scenario: str
    rate: int
    seconds: float
    sent: int = 0
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    max_send_lag_ms: float = 0.0
    client_gc_max_ms: float = 0.0
    server_cpu_pct: float = 0.0
    machine_busy_pct: float = 0.0

    def percentile(self, q: float, values: Sequence[float] | None = None) -> float:
        data = sorted(self.latencies_ms if values is None else values)
        if not data:
            return float("nan")
        return data[min(len(data) - 1, int(q * len(data)))]

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def sustained(self) -> bool:
        return self.error_count == 0 and self.percentile(0.99) <= P99_LIMIT_MS


async def run_step(
    port: int, token: str, scenario: Scenario, rate: int, seconds: float, server_pid: int
) -> StepResult:
    """Send ``rate`` requests/s (Poisson arrivals, fixed in advance) for ``seconds``."""
    loop = asyncio.get_running_loop()
    pool = Connections(port)
    result = StepResult(scenario.name, rate, seconds)
    schedule, at = [], 0.0
    while at < seconds:
        at += scenario.rng.expovariate(rate)
        schedule.append(at)
    pauses = ClientPauses()
    cpu0, (busy0, total0) = process_tree_cpu(server_pid), machine_busy()
    start = loop.time() + 0.05
    tasks = []
    for offset in schedule:
        due = start + offset
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        result.max_send_lag_ms = max(result.max_send_lag_ms, (loop.time() - due) * 1000)
        tasks.append(loop.create_task(_one(pool, token, scenario, due, result)))
        result.sent += 1
    finished, unfinished = await asyncio.wait(tasks, timeout=10) if tasks else (set(), set())
    for task in unfinished:
        task.cancel()
        result.errors["no answer 10 s after the step"] = (
            result.errors.get("no answer 10 s after the step", 0) + 1
        )
    if unfinished:
        await asyncio.wait(unfinished)
    elapsed = loop.time() - start
    result.client_gc_max_ms = pauses.stop()
    cpu1, (busy1, total1) = process_tree_cpu(server_pid), machine_busy()
    result.server_cpu_pct = 100 * (cpu1 - cpu0) / elapsed
    result.machine_busy_pct = 100 * os.cpu_count() * (busy1 - busy0) / max(1, total1 - total0)  # type: ignore[operator]
    pool.close()
    del finished
    return result


class ClientPauses:
    """The client's own garbage collection, out of the way of a step and watched during it.

    This process holds the app's modules and the fixtures (about 100,000 objects): a full
    collection took 60 ms, during which no request went out and no answer was read, and the
    step counted that as the server's latency (sends 44-77 ms late in a list step). Collected
    and frozen before the step, later collections walk only what the step made; the longest
    one is reported beside the send lag.
    """

    def __init__(self) -> None:
        gc.collect()
        gc.freeze()
        self.longest_ms = 0.0
        self._began = 0.0
        gc.callbacks.append(self._watch)

    def _watch(self, phase: str, _info: dict[str, Any]) -> None:
        now = time.perf_counter()
        if phase == "start":
            self._began = now
        else:
            self.longest_ms = max(self.longest_ms, (now - self._began) * 1000)

    def stop(self) -> float:
        gc.callbacks.remove(self._watch)
        gc.unfreeze()
        return self.longest_ms


async def _one(
    pool: Connections, token: str, scenario: Scenario, due: float, result: StepResult
) -> None:
    loop = asyncio.get_running_loop()
    request = scenario.next()
    try:
        status, body = await pool.get(request.path, token)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # counted and reported; the run goes on
        key = type(exc).__name__
        result.errors[key] = result.errors.get(key, 0) + 1
        return
    latency = (loop.time() - due) * 1000
    if status != 200:
        key = f"HTTP {status}"
        result.errors[key] = result.errors.get(key, 0) + 1
        return
    result.ok += 1
    result.latencies_ms.append(latency)
    result.by_kind.setdefault(request.kind, []).append(latency)
    scenario.done(request, body)


# =============================================================================================
# Runs, report, entry point
# =============================================================================================


def run_scenario(
    port: int, token: str, scenario: Scenario, rates: Sequence[int], seconds: float, pid: int
) -> list[StepResult]:
    """The first rate (the target's) always, then the others in order until p99 passes the
    limit (or errors appear)."""
    results = []
    for index, rate in enumerate(rates):
        result = uvloop.run(run_step(port, token, scenario, rate, seconds, pid))
        results.append(result)
        print(_row(result), flush=True)
        if not result.sustained and index > 0:
            break
        # An overloaded server still works off the requests of the step before.
        time.sleep(1 if result.sustained else 8)
    if not results[-1].sustained:
        # Does the server answer again once the overload is over (load shedding)? One short
        # step at a quarter of the base rate, 1 s after the overloaded one; not counted in
        # the highest sustained rate.
        time.sleep(1)
        after = uvloop.run(run_step(port, token, scenario, max(1, rates[0] // 4), seconds / 2, pid))
        after.scenario = f"{scenario.name} (after overload)"
        print(_row(after), flush=True)
        results.append(after)
    return results


def warm_up(
    port: int, tokens: dict[str, str], fx: Fixtures, pid: int, seconds: float, names: list[str]
) -> None:
    """The scenarios to run at a low rate: imports, connection pools, the database's caches.
    (Only those: a few slow searches would leave a backlog in the database for the others.)"""
    for name in names:
        kind = SCENARIOS[name]
        scenario = kind(fx, random.Random(name))
        uvloop.run(run_step(port, tokens[kind.user], scenario, 50, seconds, pid))


HEADER = (
    "| scenario | offered req/s | sent | ok | errors | p50 ms | p90 ms | p99 ms | max ms |"
    " server CPU % | machine busy % | max send lag ms | client GC max ms |\n"
    "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def _row(r: StepResult) -> str:
    errors = ", ".join(f"{k}: {v}" for k, v in sorted(r.errors.items())) or "0"
    worst = max(r.latencies_ms, default=0)
    return (
        f"| {r.scenario} | {r.rate} | {r.sent} | {r.ok} | {errors} | {r.percentile(0.5):.1f} |"
        f" {r.percentile(0.9):.1f} | {r.percentile(0.99):.1f} | {worst:.0f}"
        f" | {r.server_cpu_pct:.0f} | {r.machine_busy_pct:.0f} | {r.max_send_lag_ms:.1f}"
        f" | {r.client_gc_max_ms:.1f} |"
    )


def _kinds(results: Sequence[StepResult], rate: int) -> list[str]:
    lines = []
    for r in results:
        if r.rate != rate:
            continue
        for kind, values in sorted(r.by_kind.items()):
            lines.append(
                f"| {kind} | {len(values)} | {r.percentile(0.5, values):.1f} |"
                f" {r.percentile(0.99, values):.1f} |"
            )
    return lines


def summary(backend: str, results: dict[str, list[StepResult]], base_rate: int) -> str:
    lines = [
        f"### {backend}",
        "",
        f"| scenario | p50 ms at {base_rate} | p99 ms at {base_rate} | errors at {base_rate} |"
        " highest rate with p99 <= 100 ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, steps in results.items():
        base = next((r for r in steps if r.rate == base_rate), None)
        stepped = [r for r in steps if r.scenario == name]  # not the step after an overload
        good = [r.rate for r in stepped if r.sustained]
        highest = f"{max(good)} req/s" if good else "-"
        if good and stepped[-1].sustained:
            highest += " (not reached the limit: the last step offered)"
        if base is None:
            lines.append(f"| {name} | - | - | - | {highest} |")
        else:
            lines.append(
                f"| {name} | {base.percentile(0.5):.1f} | {base.percentile(0.99):.1f} |"
                f" {base.error_count} | {highest} |"
            )
    lines += ["", "All steps:", "", HEADER]
    lines += [_row(r) for steps in results.values() for r in steps]
    lines += [
        "",
        f"By request kind at {base_rate} req/s:",
        "",
        "| kind | n | p50 ms | p99 ms |",
        "|---|---:|---:|---:|",
    ]
    lines += [line for steps in results.values() for line in _kinds(steps, base_rate)]
    return "\n".join(lines)


def machine() -> str:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1]
    import sqlalchemy

    return (
        f"CPUs {os.cpu_count()} ({cpu}), RAM {int(mem) / 2**20:.1f} GiB,"
        f" Linux {platform.release()}, Python {platform.python_version()},"
        f" SQLite {sqlite3.sqlite_version}, SQLAlchemy {sqlalchemy.__version__}"
    )


def pg_version(url: str) -> str:
    engine = create_engine(url)
    with engine.connect() as conn:
        version: str = conn.execute(text("SHOW server_version")).scalar_one()
    engine.dispose()
    return version


def bench_backend(backend: str, args: argparse.Namespace) -> str:
    tgt = target(backend, args.orders)
    meta = prepare(tgt, args.orders, args.seed, args.regenerate)
    tokens = issue_tokens(tgt.url, ["supervisor", "handler"])
    fx = fixtures(tgt.url, random.Random(args.seed))
    server = start_server(tgt.url, args.workers, backend)
    try:
        pid = server.process.pid
        warm_up(server.port, tokens, fx, pid, args.warmup, args.scenarios)
        print(HEADER, flush=True)
        results = {}
        for name in args.scenarios:
            kind = SCENARIOS[name]
            scenario = kind(fx, random.Random(f"{args.seed}-{name}"))
            results[name] = run_scenario(
                server.port, tokens[kind.user], scenario, args.rates, args.duration, pid
            )
    finally:
        server.stop()
    label = backend if backend == "sqlite" else f"postgresql {pg_version(tgt.url)}"
    text_out = summary(label, results, args.rates[0])
    (WORK_DIR / f"results-{backend}.json").write_text(
        json.dumps(
            {
                "meta": meta,
                "workers": args.workers,
                "steps": [
                    {k: v for k, v in vars(r).items() if k not in ("latencies_ms", "by_kind")}
                    | {"p50": r.percentile(0.5), "p99": r.percentile(0.99)}
                    for steps in results.values()
                    for r in steps
                ],
            },
            indent=1,
        )
    )
    return text_out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--scenarios", default="list,search,detail,list-handler")
    parser.add_argument("--rates", default="200,25,50,75,100,150,200,300,400,600,800")
    parser.add_argument("--duration", type=float, default=12.0, help="seconds per step")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds per scenario")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=12351)
    parser.add_argument("--regenerate", action="store_true", help="ignore the cached databases")
    args = parser.parse_args(argv)
    args.rates = [int(r) for r in args.rates.split(",")]
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    unknown = [s for s in args.scenarios if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {unknown[0]}; known: {', '.join(SCENARIOS)}")
    print(METHOD.format(workers=args.workers, duration=args.duration, orders=args.orders))
    print(machine())
    reports = [bench_backend(b, args) for b in args.backends.split(",") if b]
    print()
    print("\n\n".join(reports))
    return 0


METHOD = """Method: {orders:,} generated work orders per database (cached under
/var/tmp/hotline-bench/backoffice), the back office under uvicorn with {workers} worker
process(es) on 127.0.0.1, one client process sending on a precomputed Poisson schedule
(open loop: latency from the scheduled send time to the last response byte), {duration:.0f} s
per step, rates stepped up until p99 > 100 ms or an error; signed in as the provincial
supervisor (list-handler: the Shuangfeng county handler)."""


if __name__ == "__main__":
    sys.exit(main())
