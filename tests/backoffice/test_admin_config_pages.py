"""The admin pages for seats, skills, speech rules and holidays, on SQLite and PostgreSQL, with
the real ACD in Redis and the Asterisk config rendered to disk (no Asterisk runs here: the
live reload is in tests/integration/test_admin_seats_e2e.py)."""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlmodel import Session

from acd import seats, skills
from acd.keys import AcdKeys
from acd.model import AgentState, Role, WaitingCall
from acd.store import AcdStore
from backoffice.app import create_app
from backoffice.services import admin_config, work_orders
from hotline import holidays
from hotline.settings import Settings, load_settings
from hotline.speech import rulestore
from hotline.speech.classify import DEFAULT_RULES
from ivr import flowstore
from ivr.flow import load_flow
from ivr.publishing import packaged_flow_text
from tests.backoffice.conftest import SECRET, Backend
from tests.conftest import need

pytestmark = pytest.mark.integration

PAGES = ("/admin/seats", "/admin/skills", "/admin/speech-rules", "/admin/holidays", "/admin/queues")
POSTS = (
    "/admin/seats",
    "/admin/seats/1001/delete",
    "/admin/skills",
    "/admin/skills/legal/delete",
    "/admin/speech-rules",
    "/admin/holidays",
    "/admin/holidays/2026-12-09/delete",
    "/admin/queues/operator",
)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SEAT = "3101"


@pytest.fixture
def admin_settings(db: Backend, tmp_path: Path) -> Settings:
    url = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/14")
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as exc:
        need(False, f"Redis at {url} ({exc})")
    # A system-mode Asterisk that is not running: adding a seat renders its config to disk.
    return load_settings(
        var_dir=tmp_path / "var",
        database_url=db.settings.database_url,
        redis_url=url,
        asterisk_mode="system",
        asterisk_instance=f"admin{os.getpid()}",
    )


@pytest.fixture
def acd(admin_settings: Settings) -> Iterator[AcdStore]:
    """The ACD under a key prefix of this test's own (the app's store is pointed at it)."""
    store = AcdStore.from_url(
        admin_settings.redis_url, keys=AcdKeys(f"test:{uuid.uuid4().hex[:8]}:")
    )
    yield store
    for key in store.client.scan_iter(match=store.keys.prefix + "*"):
        store.client.delete(key)


@pytest.fixture
def app_client(db: Backend, admin_settings: Settings, acd: AcdStore) -> Iterator[TestClient]:
    admin_config.ensure_tables(db.engine)
    with Session(db.engine) as session:
        for table in (
            seats.SeatConfig,
            skills.SkillLabel,
            holidays.HolidayOverride,
            rulestore.SpeechRulesVersion,
        ):
            session.exec(delete(table))  # type: ignore[call-overload]
        session.commit()
    app = create_app(admin_settings, engine=db.engine, secret_key=SECRET)
    app.state.admin_acd = acd
    with TestClient(app, follow_redirects=False) as client:
        yield client


def sign_in(client: TestClient, username: str) -> str:
    """Sign in through the login page; returns the session's form token."""
    token = CSRF.findall(client.get("/login").text)[0]
    form = {"username": username, "password": f"demo-{username}-12351", "csrf_token": token}
    assert client.post("/login", data=form).status_code == 303
    return CSRF.findall(client.get("/login").text)[0]


def post(client: TestClient, token: str, path: str, **fields: str) -> httpx.Response:
    return client.post(path, data={"csrf_token": token, **fields})


@pytest.mark.parametrize("username", ["operator", "lawyer", "supervisor"])
def test_only_an_admin_opens_or_changes_anything(app_client: TestClient, username: str) -> None:
    token = sign_in(app_client, username)
    for page in PAGES:
        assert app_client.get(page).status_code == 403, page
    for path in POSTS:
        answer = post(
            app_client, token, path, seat="3999", role="operator", **{"skill.operator": "1"}
        )
        assert answer.status_code == 403, path
    assert app_client.get("/admin/seats/1001").status_code == 403


def test_signed_out_the_admin_pages_send_to_the_login(app_client: TestClient) -> None:
    for page in PAGES:
        answer = app_client.get(page)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_a_new_seat_gets_a_sip_account_shown_once_and_is_in_the_acd(
    app_client: TestClient, admin_settings: Settings, acd: AcdStore, db: Backend
) -> None:
    token = sign_in(app_client, "admin")
    levels = {"skill.legal": "4", "skill.wage_arrears": "3", "skill.lang_en": "2"}
    answer = post(app_client, token, "/admin/seats", seat=SEAT, name="王芳", role="lawyer",
                  **levels)  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    shown = re.search(r'id="cred-password">([0-9a-f]{32})<', answer.text)
    assert shown is not None, answer.text
    secrets = json.loads((admin_settings.var_dir / "secrets.json").read_text())
    assert secrets["seat_passwords"][SEAT] == shown.group(1)
    assert 'data-status="rendered"' in answer.text  # Asterisk is not running here
    pjsip = (admin_settings.var_dir / "asterisk" / "etc" / "pjsip.conf").read_text()
    assert f"[{SEAT}]" in pjsip and shown.group(1) in pjsip
    agent = acd.get_agent(SEAT)
    assert agent is not None and agent.role is Role.LAWYER
    assert agent.skills == {"legal": 4, "wage_arrears": 3, "lang_en": 2}
    row = seats.get_seat(db.engine, SEAT)
    assert row is not None and (row.name, row.role) == ("王芳", "lawyer")
    # The list and a later visit never show the password again.
    listing = app_client.get("/admin/seats").text
    assert shown.group(1) not in listing and f'data-seat="{SEAT}"' in listing

    # Editing keeps the account: no new password, the ACD gets the new skills.
    edit = app_client.get(f"/admin/seats/{SEAT}").text
    assert 'id="seat-id" name="seat" value="3101"' in edit and "readonly" in edit
    again = post(app_client, token, "/admin/seats", seat=SEAT, name="王芳", role="lawyer",
                 **{"skill.legal": "5"})  # fmt: skip
    assert again.status_code == 303
    after = json.loads((admin_settings.var_dir / "secrets.json").read_text())
    assert after["seat_passwords"][SEAT] == shown.group(1)
    assert acd.get_agent(SEAT).skills == {"legal": 5}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"seat": "12", "role": "operator", "skill.operator": "1"}, ["err-seat"]),
        ({"seat": "12a4", "role": "boss", "skill.operator": "1"}, ["err-seat", "err-role"]),
        ({"seat": SEAT, "role": "operator", "skill.operator": "7"}, ["err-skill-operator"]),
        ({"seat": SEAT, "role": "operator", "skill.wage_arear": "3"}, ["err-skill-wage_arear"]),
        ({"seat": SEAT, "role": "operator", "skill.lang_en": "1"}, ["err-skills"]),
        ({"seat": SEAT, "role": "operator", "name": "名" * 65, "skill.legal": "1"}, ["err-name"]),
    ],
)
def test_a_bad_seat_form_comes_back_with_the_errors_inline_and_nothing_stored(
    app_client: TestClient, admin_settings: Settings, acd: AcdStore, db: Backend,
    fields: dict[str, str], errors: list[str],
) -> None:  # fmt: skip
    token = sign_in(app_client, "admin")
    answer = post(app_client, token, "/admin/seats", **fields)
    assert answer.status_code == 422
    found = re.findall(r'class="error field-error" id="([^"]+)"', answer.text)
    assert found == errors, answer.text
    assert f'value="{fields["seat"]}"' in answer.text  # what was typed is kept
    assert seats.get_seat(db.engine, fields["seat"]) is None
    assert acd.get_agent(fields["seat"]) is None
    assert not (admin_settings.var_dir / "secrets.json").exists()


def test_a_seat_holding_a_call_is_not_removed(
    app_client: TestClient, admin_settings: Settings, acd: AcdStore, db: Backend
) -> None:
    token = sign_in(app_client, "admin")
    made = post(app_client, token, "/admin/seats", seat=SEAT, role="operator",
                **{"skill.operator": "2"})  # fmt: skip
    assert made.status_code == 200
    acd.set_registered(SEAT, True)
    acd.set_state(SEAT, AgentState.AVAILABLE)
    acd.enqueue(WaitingCall("call-admin-1", "operator", {"operator": 1}))
    assert acd.try_match_call("call-admin-1") is not None  # the seat rings
    refused = post(app_client, token, f"/admin/seats/{SEAT}/delete")
    assert refused.status_code == 409
    assert f"seat {SEAT} is ringing or on a call" in refused.text
    assert seats.get_seat(db.engine, SEAT) is not None
    assert acd.get_agent(SEAT).state is AgentState.RINGING  # type: ignore[union-attr]

    assert acd.finish("call-admin-1", SEAT)
    removed = post(app_client, token, f"/admin/seats/{SEAT}/delete")
    assert removed.status_code == 303
    assert seats.get_seat(db.engine, SEAT) is None and acd.get_agent(SEAT) is None
    secrets = json.loads((admin_settings.var_dir / "secrets.json").read_text())
    assert SEAT not in secrets["seat_passwords"]
    pjsip = (admin_settings.var_dir / "asterisk" / "etc" / "pjsip.conf").read_text()
    assert f"[{SEAT}]" not in pjsip


def test_the_skill_catalogue_checks_names_and_labels(app_client: TestClient, db: Backend) -> None:
    token = sign_in(app_client, "admin")
    page = app_client.get("/admin/skills").text
    assert 'data-skill="wage_arrears"' in page and "欠薪" in page
    bad = post(
        app_client, token, "/admin/skills", name="Pension-Rules", label_zh="养老", label_en="P"
    )
    assert bad.status_code == 422 and 'id="err-name"' in bad.text and "Pension-Rules" in bad.text
    unlabelled = post(app_client, token, "/admin/skills", name="pension", label_zh="", label_en="P")
    assert unlabelled.status_code == 422 and 'id="err-label_zh"' in unlabelled.text
    assert "pension" not in skills.catalogue(db.engine)
    good = post(
        app_client, token, "/admin/skills", name="pension", label_zh="养老保险", label_en="Pension"
    )
    assert good.status_code == 303
    assert skills.catalogue(db.engine)["pension"].label_en == "Pension"
    # The seat form offers it at once.
    assert 'name="skill.pension"' in app_client.get("/admin/seats").text
    post(app_client, token, "/admin/seats", seat=SEAT, role="operator", **{"skill.pension": "2"})
    held = post(app_client, token, "/admin/skills/pension/delete")
    assert held.status_code == 409 and SEAT in held.text
    post(app_client, token, f"/admin/seats/{SEAT}/delete")
    assert post(app_client, token, "/admin/skills/pension/delete").status_code == 303
    assert "pension" not in skills.catalogue(db.engine)


def test_speech_rules_try_it_flags_bad_rules_and_saves_a_version_the_ivr_follows(
    app_client: TestClient, db: Backend
) -> None:
    token = sign_in(app_client, "admin")
    page = app_client.get("/admin/speech-rules").text
    assert "拖欠工资" in page and 'id="rules-version"' in page
    shipped = DEFAULT_RULES.read_text(encoding="utf-8")
    source = rulestore.RulesSource(db.engine, DEFAULT_RULES, refresh_s=0)
    before = source.get()
    sentence = "我想问一下年假怎么休"
    tried = post(app_client, token, "/admin/speech-rules", rules=shipped, action="try",
                 sentence=sentence, language="zh")  # fmt: skip
    assert tried.status_code == 200 and 'id="try-result" data-category=""' in tried.text

    edited = shipped.replace(
        "          拖欠工资: 3\n", "          拖欠工资: 3\n          年假: 3\n", 1
    )
    tried = post(app_client, token, "/admin/speech-rules", rules=edited, action="try",
                 sentence=sentence, language="zh")  # fmt: skip
    assert 'id="try-result" data-category="wage_arrears"' in tried.text
    assert rulestore.latest(db.engine) is None  # trying saves nothing

    zero = edited.replace("年假: 3", "年假: 0")
    refused = post(app_client, token, "/admin/speech-rules", rules=zero, action="save")
    assert refused.status_code == 422
    assert "languages.zh.categories.wage_arrears.keywords.年假" in refused.text
    assert "年假: 0" in refused.text  # the edit is kept in the box
    broken = post(
        app_client, token, "/admin/speech-rules", rules="version: 1\nlanguages: [", action="save"
    )
    assert broken.status_code == 422 and "not valid YAML" in broken.text
    assert rulestore.latest(db.engine) is None

    saved = post(app_client, token, "/admin/speech-rules", rules=edited, action="save")
    assert saved.status_code == 303
    version = rulestore.latest(db.engine)
    assert version is not None and version.saved_by == "系统管理员"
    after = source.get()
    assert after is not before and source.version == version.id
    assert after.languages["zh"].categories["wage_arrears"].keywords["年假"] == 3
    assert "年假: 3" in app_client.get("/admin/speech-rules").text


def test_holiday_overrides_are_listed_validated_and_used_by_deadlines(
    app_client: TestClient, db: Backend
) -> None:
    token = sign_in(app_client, "admin")
    for fields, error in (
        ({"day": "2026-13-01", "kind": "closed", "reason": "台风"}, "err-day"),
        ({"day": "2026-12-09", "kind": "maybe", "reason": "台风"}, "err-kind"),
        ({"day": "2026-12-09", "kind": "closed", "reason": "  "}, "err-reason"),
    ):
        answer = post(app_client, token, "/admin/holidays", **fields)
        assert answer.status_code == 422 and f'id="{error}"' in answer.text, fields
    assert holidays.listed(db.engine) == []
    saved = post(app_client, token, "/admin/holidays", day="2026-12-09", kind="closed",
                 reason="台风停工")  # fmt: skip
    assert saved.status_code == 303
    page = app_client.get("/admin/holidays").text
    assert 'data-day="2026-12-09"' in page and "台风停工" in page
    assert holidays.overrides(db.engine) == {date(2026, 12, 9): False}
    with Session(db.engine) as session:
        rules = work_orders._rules(session, work_orders.DEFAULT_CONFIG)
    assert rules.deadlines.workday_overrides == {date(2026, 12, 9): False}
    cache = holidays.OverridesCache(db.engine, refresh_s=0)
    assert cache.get() == {date(2026, 12, 9): False}
    assert post(app_client, token, "/admin/holidays/2026-12-09/delete").status_code == 303
    assert cache.get() == {}


def test_queue_settings_are_validated_and_published_as_a_new_flow_version(
    app_client: TestClient, db: Backend, admin_settings: Settings
) -> None:
    flow_id = admin_settings.ivr_flow
    base = flowstore.publish(db.engine, flow_id, packaged_flow_text(flow_id), "test")
    token = sign_in(app_client, "admin")
    page = app_client.get("/admin/queues").text
    assert 'id="queue-wage_arrears"' in page and "min_level_delta: -2" in page
    steps = "- {after_s: 20, min_level_delta: -1}\n- {after_s: 60, any_operator: true}"
    for fields, error in (
        (
            {"wrap_up_s": "soon", "max_wait_s": "300", "escalation": steps},
            "err-wage_arrears-wrap_up_s",
        ),
        (
            {"wrap_up_s": "20", "max_wait_s": "300", "escalation": "- {after_s: 20}"},
            "err-wage_arrears-flow",
        ),
        ({"wrap_up_s": "20", "max_wait_s": "1", "escalation": steps}, "err-wage_arrears-flow"),
        (
            {"wrap_up_s": "20", "max_wait_s": "300", "escalation": "[ "},
            "err-wage_arrears-escalation",
        ),
    ):
        answer = post(app_client, token, "/admin/queues/wage_arrears", **fields)
        assert answer.status_code == 422 and f'id="{error}"' in answer.text, (fields, answer.text)
        assert flowstore.active_version(db.engine, flow_id) == base.version
    saved = post(app_client, token, "/admin/queues/wage_arrears", wrap_up_s="20", max_wait_s="240",
                 escalation=steps)  # fmt: skip
    assert saved.status_code == 303
    current = flowstore.active(db.engine, flow_id)
    assert current is not None and current.version == base.version + 1
    flow = load_flow(current.yaml)
    queue = flow.queues["wage_arrears"]
    assert (queue.wrap_up_s, queue.max_wait_s) == (20, 240)
    assert [s.after_s for s in queue.escalation] == [20, 60] and queue.escalation[1].any_operator
    assert flow.queues["operator"] == load_flow(base.yaml).queues["operator"]  # the rest kept
