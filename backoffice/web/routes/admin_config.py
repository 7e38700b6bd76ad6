"""Admin pages for what is not a flow: seats, the skill catalogue, speech keyword rules and
calendar overrides (/admin/seats, /admin/skills, /admin/speech-rules, /admin/holidays), and
the queues of the active flow (/admin/queues: wrap-up, maximum wait, escalation steps).

Admins only, checked on every request. A form with mistakes comes back with what was typed and
a message next to each field at fault (status 422); nothing is stored until all of it is valid.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from redis import RedisError

from acd import seats, skills
from acd.store import AcdStore
from backoffice.access import Viewer
from backoffice.api.deps import BackofficeDep
from backoffice.domain.lifecycle import Role
from backoffice.errors import Conflict, Forbidden, NotFound
from backoffice.services import admin_config as admin
from backoffice.web.flash import flash
from backoffice.web.render import redirect, render
from backoffice.web.security import Csrf, PageViewer
from hotline import holidays
from hotline.speech import rulestore
from hotline.speech.classify import classify, load_rules
from hotline.speech.config import speech_config
from hotline.speech.errors import RulesInvalid
from hotline.workdays import holiday_name, is_workday
from ivr import flowstore
from ivr.flow.validate import parse_flow_yaml

router = APIRouter()
MAX_FIELD = 64
MAX_SENTENCE = 500
MAX_RULES = rulestore.MAX_TEXT


def _admin(request: Request, viewer: Viewer, backoffice: Any) -> None:
    if viewer.role is not Role.ADMIN:
        raise Forbidden(f"a {viewer.role} may not open the admin pages")
    if not getattr(request.app.state, "admin_tables", False):
        admin.ensure_tables(backoffice.engine)
        request.app.state.admin_tables = True


def _store(request: Request, backoffice: Any) -> AcdStore:
    store: AcdStore | None = getattr(request.app.state, "admin_acd", None)
    if store is None:
        store = AcdStore.from_url(backoffice.settings.redis_url)
        request.app.state.admin_acd = store
    return store


# --- seats -------------------------------------------------------------------------------


def _seats_page(
    request: Request, backoffice: Any, form: admin.SeatForm | None = None,
    errors: dict[str, str] | None = None, saved: admin.SeatSaved | None = None,
    status: int = 200,
) -> Response:  # fmt: skip
    engine = backoffice.engine
    catalogue = skills.catalogue(engine)
    context = {
        "rows": seats.seats(engine),
        "catalogue": catalogue,
        "work_skills": [s for s in catalogue if not s.startswith(admin.LANG_PREFIX)],
        "lang_skills": [s for s in catalogue if s.startswith(admin.LANG_PREFIX)],
        "roles": admin.SEAT_ROLES,
        "form": form or admin.SeatForm("", "", "operator", {}),
        "errors": errors or {},
        "saved": saved,
        "sip": f"{backoffice.settings.sip_bind}:{backoffice.settings.sip_port}",
        "editing": form is not None and errors is None and saved is None,
    }
    return render(request, "admin_seats.html", context, status=status)


@router.get("/admin/seats")
def seats_page(request: Request, backoffice: BackofficeDep, viewer: PageViewer) -> Response:
    _admin(request, viewer, backoffice)
    return _seats_page(request, backoffice)


@router.get("/admin/seats/{seat}")
def seat_edit(
    request: Request, seat: str, backoffice: BackofficeDep, viewer: PageViewer
) -> Response:
    _admin(request, viewer, backoffice)
    row = seats.get_seat(backoffice.engine, seat)
    if row is None:
        return redirect("/admin/seats")
    levels = {name: str(level) for name, level in row.skills.items()}
    return _seats_page(request, backoffice, admin.SeatForm(row.seat, row.name, row.role, levels))


@router.post("/admin/seats", dependencies=[Csrf])
async def seat_save(request: Request, backoffice: BackofficeDep, viewer: PageViewer) -> Response:
    _admin(request, viewer, backoffice)
    data = await request.form()
    # Not cut short: an over-long field is reported by the check, never silently trimmed.
    text = {key: value for key, value in data.items() if isinstance(value, str)}
    levels = {k[len("skill.") :]: v for k, v in text.items() if k.startswith("skill.")}
    form = admin.SeatForm(text.get("seat", ""), text.get("name", ""), text.get("role", ""), levels)
    checked = admin.check_seat(form, skills.catalogue(backoffice.engine))
    if isinstance(checked, dict):
        return _seats_page(request, backoffice, form, checked, status=422)
    try:
        saved = admin.save_seat(backoffice.settings, backoffice.engine, _store(request, backoffice),
                                checked)  # fmt: skip
    except RedisError:
        return _seats_page(request, backoffice, form, {"form": "seat.acd_down"}, status=503)
    if saved.password is None:
        back = redirect("/admin/seats")
        flash(back, "flash.seat_saved")
        return back
    # The password is in this answer only: the page shows it once, nothing else repeats it.
    page = _seats_page(request, backoffice, saved=saved)
    page.headers["Cache-Control"] = "no-store"
    return page


@router.post("/admin/seats/{seat}/delete", dependencies=[Csrf])
def seat_delete(
    request: Request, seat: str, backoffice: BackofficeDep, viewer: PageViewer
) -> Response:
    _admin(request, viewer, backoffice)
    try:
        admin.remove_seat(backoffice.settings, backoffice.engine, _store(request, backoffice), seat)
    except admin.SeatBusy:
        raise Conflict(f"seat {seat} is ringing or on a call; remove it after the call") from None
    except RedisError:
        raise Conflict("the ACD (Redis) is not answering; nothing was removed") from None
    response = redirect("/admin/seats")
    flash(response, "flash.seat_removed")
    return response


# --- skills ------------------------------------------------------------------------------


def _skills_page(
    request: Request, backoffice: Any, form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    engine = backoffice.engine
    used: dict[str, list[str]] = {}
    for row in seats.seats(engine):
        for name in row.skills:
            used.setdefault(name, []).append(row.seat)
    context = {
        "catalogue": skills.catalogue(engine),
        "used": used,
        "form": form or {"name": "", "label_zh": "", "label_en": ""},
        "errors": errors or {},
    }
    return render(request, "admin_skills.html", context, status=status)


@router.get("/admin/skills")
def skills_page(request: Request, backoffice: BackofficeDep, viewer: PageViewer) -> Response:
    _admin(request, viewer, backoffice)
    return _skills_page(request, backoffice)


@router.post("/admin/skills", dependencies=[Csrf])
def skill_save(
    request: Request, backoffice: BackofficeDep, viewer: PageViewer,
    name: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    label_zh: Annotated[str, Form(max_length=200)] = "",
    label_en: Annotated[str, Form(max_length=200)] = "",
) -> Response:  # fmt: skip
    _admin(request, viewer, backoffice)
    form = {"name": name, "label_zh": label_zh, "label_en": label_en}
    try:
        entry = skills.check_skill(name, label_zh, label_en)
    except skills.SkillProblem as exc:
        return _skills_page(request, backoffice, form, {exc.field: exc.key}, status=422)
    skills.catalogue(backoffice.engine)  # the defaults first, so a new entry does not hide them
    skills.save_skill(backoffice.engine, entry)
    response = redirect("/admin/skills")
    flash(response, "flash.skill_saved")
    return response


@router.post("/admin/skills/{name}/delete", dependencies=[Csrf])
def skill_delete(
    request: Request, name: str, backoffice: BackofficeDep, viewer: PageViewer
) -> Response:
    _admin(request, viewer, backoffice)
    holders = [row.seat for row in seats.seats(backoffice.engine) if name in row.skills]
    if holders:
        raise Conflict(f"skill {name} is held by seats {', '.join(holders)}; take it off first")
    skills.delete_skill(backoffice.engine, name)
    response = redirect("/admin/skills")
    flash(response, "flash.skill_removed")
    return response


# --- speech rules ------------------------------------------------------------------------


def _speech_page(
    request: Request, backoffice: Any, text: str | None = None, error: str | None = None,
    trial: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    engine = backoffice.engine
    fallback = speech_config(backoffice.settings).rules
    current = rulestore.latest(engine)
    shown = text if text is not None else rulestore.current_text(engine, fallback)
    try:
        book = load_rules(shown)
    except RulesInvalid:
        book = None
    context = {
        "text": shown,
        "error": error,
        "book": book,
        "current": current,
        "trial": trial or {"sentence": "", "language": backoffice.settings.speech_language},
    }
    return render(request, "admin_speech.html", context, status=status)


@router.get("/admin/speech-rules")
def speech_page(request: Request, backoffice: BackofficeDep, viewer: PageViewer) -> Response:
    _admin(request, viewer, backoffice)
    return _speech_page(request, backoffice)


@router.post("/admin/speech-rules", dependencies=[Csrf])
def speech_save(
    request: Request, backoffice: BackofficeDep, viewer: PageViewer,
    rules: Annotated[str, Form(max_length=MAX_RULES)] = "",
    action: Annotated[str, Form(max_length=8)] = "save",
    sentence: Annotated[str, Form(max_length=MAX_SENTENCE)] = "",
    language: Annotated[str, Form(max_length=12)] = "zh",
) -> Response:  # fmt: skip
    _admin(request, viewer, backoffice)
    trial: dict[str, Any] = {"sentence": sentence, "language": language}
    try:
        book = load_rules(rules)
        if action == "try":
            trial["result"] = classify(sentence, book.for_language(language))
            return _speech_page(request, backoffice, rules, trial=trial)
        rulestore.save_rules(backoffice.engine, rules, viewer.name)
    except RulesInvalid as exc:
        return _speech_page(request, backoffice, rules, str(exc), trial, status=422)
    response = redirect("/admin/speech-rules")
    flash(response, "flash.rules_saved")
    return response


# --- holidays ----------------------------------------------------------------------------


def _holidays_page(
    request: Request, backoffice: Any, form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    rows = [
        {"row": row, "china_workday": is_workday(row.day), "holiday": holiday_name(row.day)}
        for row in holidays.listed(backoffice.engine)
    ]
    context = {
        "rows": rows,
        "form": form or {"day": "", "kind": "closed", "reason": ""},
        "errors": errors or {},
    }
    return render(request, "admin_holidays.html", context, status=status)


@router.get("/admin/holidays")
def holidays_page(request: Request, backoffice: BackofficeDep, viewer: PageViewer) -> Response:
    _admin(request, viewer, backoffice)
    return _holidays_page(request, backoffice)


@router.post("/admin/holidays", dependencies=[Csrf])
def holiday_save(
    request: Request, backoffice: BackofficeDep, viewer: PageViewer,
    day: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    kind: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    reason: Annotated[str, Form(max_length=holidays.MAX_REASON * 2)] = "",
) -> Response:  # fmt: skip
    _admin(request, viewer, backoffice)
    form = {"day": day, "kind": kind, "reason": reason}
    errors: dict[str, str] = {}
    try:
        when = date.fromisoformat(day.strip())
    except ValueError:
        errors["day"] = "holiday.bad_day"
    if kind not in ("closed", "working"):
        errors["kind"] = "holiday.bad_kind"
    if not reason.strip() or len(reason.strip()) > holidays.MAX_REASON:
        errors["reason"] = "holiday.bad_reason"
    if errors:
        return _holidays_page(request, backoffice, form, errors, status=422)
    row = holidays.check_override(when, kind == "working", reason)
    holidays.save_override(backoffice.engine, row)
    response = redirect("/admin/holidays")
    flash(response, "flash.holiday_saved")
    return response


@router.post("/admin/holidays/{day}/delete", dependencies=[Csrf])
def holiday_delete(
    request: Request, day: date, backoffice: BackofficeDep, viewer: PageViewer
) -> Response:
    _admin(request, viewer, backoffice)
    holidays.delete_override(backoffice.engine, day)
    response = redirect("/admin/holidays")
    flash(response, "flash.holiday_removed")
    return response


# --- queues ------------------------------------------------------------------------------


def _active_flow(backoffice: Any) -> tuple[Any, dict[str, Any]]:
    flow_id = backoffice.settings.ivr_flow
    current = flowstore.active(backoffice.engine, flow_id)
    if current is None:
        raise NotFound(f"flow {flow_id!r} has no published version yet")
    data, _ = parse_flow_yaml(current.yaml)
    return current, dict((data or {}).get("queues") or {})


def _queues_page(
    request: Request, backoffice: Any, form: admin.QueueForm | None = None,
    errors: dict[str, str] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    current, queues = _active_flow(backoffice)
    shown = {name: admin.queue_fields(settings or {}) for name, settings in queues.items()}
    if form is not None:
        shown[form.queue] = {"wrap_up_s": form.wrap_up_s, "max_wait_s": form.max_wait_s,
                             "escalation": form.escalation}  # fmt: skip
    context = {
        "flow": current,
        "queues": shown,
        "failed": form.queue if form is not None else None,
        "errors": errors or {},
        "server_wrap_up": backoffice.settings.acd_wrap_up_seconds,
        "server_max_wait": backoffice.settings.acd_max_wait_seconds,
    }
    return render(request, "admin_queues.html", context, status=status)


@router.get("/admin/queues")
def queues_page(request: Request, backoffice: BackofficeDep, viewer: PageViewer) -> Response:
    _admin(request, viewer, backoffice)
    return _queues_page(request, backoffice)


@router.post("/admin/queues/{queue}", dependencies=[Csrf])
def queue_save(
    request: Request, queue: str, backoffice: BackofficeDep, viewer: PageViewer,
    wrap_up_s: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    max_wait_s: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    escalation: Annotated[str, Form(max_length=4000)] = "",
) -> Response:  # fmt: skip
    _admin(request, viewer, backoffice)
    form = admin.QueueForm(queue, wrap_up_s, max_wait_s, escalation)
    current, _ = _active_flow(backoffice)
    text, errors = admin.with_queue(current.yaml, form)
    if text is None:
        return _queues_page(request, backoffice, form, errors, status=422)
    # Queue settings change no prompt text, so the prompts the active version rendered serve.
    flowstore.publish(backoffice.engine, current.flow_id, text, viewer.name)
    response = redirect("/admin/queues")
    flash(response, "flash.queue_saved")
    return response
