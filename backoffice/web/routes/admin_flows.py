"""Admin pages: the /admin index and the IVR flow editor under /admin/flows.

Admins only (checked here, on the server, for every route). The editor posts the whole
draft with every action, so a draft the validator refuses comes back exactly as typed.
Publishing goes through the IVR's own `publish_flow`; the FastAGI server's flow cache looks
for a new active version every 500 ms, so the next call follows it without a restart.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from backoffice.api.deps import BackofficeDep
from backoffice.domain.lifecycle import Role
from backoffice.errors import Forbidden, Invalid, NotFound
from backoffice.services import flow_admin
from backoffice.services.flow_admin import PublishRefused, Review
from backoffice.web.flash import flash
from backoffice.web.render import redirect, render
from backoffice.web.security import Csrf, PageViewer
from ivr import flowstore
from ivr.flow import Flow
from ivr.flow.graph import flow_svg
from ivr.flow.walk import TIMEOUT, Walk, WalkInputError, WalkStart, choose, press, walk
from ivr.prompt_preview import preview_wav
from ivr.prompts import MAX_TEXT_CHARS, PromptError

router = APIRouter()
ADMIN_ROLES = frozenset({Role.ADMIN})
NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"
YAML_FIELD = flow_admin.MAX_FLOW_CHARS
PROMPT_FIELD = 2000  # the flow model's limit for one prompt text
# The other admin sections live beside this one (backoffice/web/routes/admin_config.py).
SECTIONS = (
    ("flows", "/admin/flows"),
    ("seats", "/admin/seats"),
    ("skills", "/admin/skills"),
    ("queues", "/admin/queues"),
    ("hours", "/admin/holidays"),
    ("rules", "/admin/speech-rules"),
)


def _admin(viewer: PageViewer) -> None:
    if viewer.role not in ADMIN_ROLES:
        raise Forbidden(f"a {viewer.role} may not open the admin pages")


def _engine(backoffice: Any) -> Any:
    engine = backoffice.engine
    flow_admin.ensure_tables(engine)
    return engine


@router.get("/admin")
def admin_index(request: Request, viewer: PageViewer) -> Response:
    _admin(viewer)
    return render(request, "admin_index.html", {"sections": SECTIONS})


@router.get("/admin/flows")
def flows_page(request: Request, backoffice: BackofficeDep, viewer: PageViewer) -> Response:
    _admin(viewer)
    flows = flow_admin.summaries(_engine(backoffice))
    return render(request, "admin_flows.html", {"flows": flows})


@router.get("/admin/tts.wav")
def tts_preview(
    backoffice: BackofficeDep, viewer: PageViewer,
    text: Annotated[str, Query(max_length=MAX_TEXT_CHARS * 4)],
    lang: Annotated[str, Query(max_length=16)] = "zh",
) -> Response:  # fmt: skip
    """The prompt synthesized by the IVR's TTS (espeak-ng), cached by the text's hash."""
    _admin(viewer)
    try:
        audio = preview_wav(text, lang, backoffice.settings.recordings_dir)
    except PromptError as exc:
        raise Invalid(str(exc)) from None
    tag = hashlib.sha256(audio).hexdigest()[:20]
    headers = {"ETag": f'"{tag}"', "Cache-Control": "private, max-age=86400"}
    return Response(audio, media_type="audio/wav", headers=headers)


def _editor(
    request: Request, backoffice: Any, name: str, found: Review, *, checked: bool = False,
    status: int = 200, walked: Walk | None = None, start: WalkStart | None = None,
    walk_error: str | None = None,
) -> Response:  # fmt: skip
    engine = _engine(backoffice)
    tz = found.flow.timezone if found.flow is not None else backoffice.settings.timezone
    moment = start.clock if start is not None else datetime.now(ZoneInfo(tz))
    versions = flow_admin.history(engine, name)
    context = {
        "name": name,
        "review": found,
        "checked": checked,
        "history": versions,
        "live": next((v for v in versions if v.is_active), None),
        "walk": walked,
        "walk_svg": _walk_svg(found.flow, walked),
        "walk_inputs": json.dumps(list(walked.inputs) if walked else [], ensure_ascii=False),
        "walk_clock": moment.strftime("%Y-%m-%dT%H:%M"),
        "walk_tz": tz,
        "walk_error": walk_error,
        "max_tts": MAX_TEXT_CHARS,
    }
    return render(request, "admin_flow.html", context, status=status)


def _walk_svg(flow: Flow | None, walked: Walk | None) -> str | None:
    if flow is None or walked is None:
        return None
    return flow_svg(flow, current=walked.node, visited={s.node for s in walked.path})


def _name(name: str) -> str:
    if not re.fullmatch(NAME, name):
        raise NotFound(f"no flow {name!r}")
    return name


@router.get("/admin/flows/{name}")
def flow_page(
    request: Request, name: str, backoffice: BackofficeDep, viewer: PageViewer,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> Response:  # fmt: skip
    _admin(viewer)
    try:
        text = flow_admin.draft_text(_engine(backoffice), _name(name), version)
    except flowstore.FlowVersionNotFound as exc:
        raise NotFound(str(exc)) from None
    if text is None:
        raise NotFound(f"no flow {name!r}")
    return _editor(request, backoffice, name, flow_admin.review(text, name))


@router.post("/admin/flows/{name}/check", dependencies=[Csrf])
def check(
    request: Request, name: str, backoffice: BackofficeDep, viewer: PageViewer,
    yaml: Annotated[str, Form(max_length=YAML_FIELD)] = "",
) -> Response:  # fmt: skip
    _admin(viewer)
    found = flow_admin.review(yaml, _name(name))
    return _editor(request, backoffice, name, found, checked=True,
                   status=200 if found.ok else 422)  # fmt: skip


@router.post("/admin/flows/{name}/publish", dependencies=[Csrf])
def publish(
    request: Request, name: str, backoffice: BackofficeDep, viewer: PageViewer,
    yaml: Annotated[str, Form(max_length=YAML_FIELD)] = "",
) -> Response:  # fmt: skip
    _admin(viewer)
    engine = _engine(backoffice)
    by = f"{viewer.name} (web)"
    try:
        flow_admin.publish(engine, backoffice.settings.recordings_dir, _name(name), yaml, by)
    except PublishRefused as refused:
        return _editor(request, backoffice, name, refused.review, checked=True, status=422)
    response = redirect(f"/admin/flows/{name}")
    flash(response, "flash.flow_published")
    return response


@router.post("/admin/flows/{name}/rollback", dependencies=[Csrf])
def rollback(
    name: str, backoffice: BackofficeDep, viewer: PageViewer,
    version: Annotated[int, Form(ge=1)],
) -> Response:  # fmt: skip
    _admin(viewer)
    try:
        flowstore.activate(_engine(backoffice), _name(name), version)
    except flowstore.FlowVersionNotFound as exc:
        raise Invalid(str(exc)) from None
    response = redirect(f"/admin/flows/{name}")
    flash(response, "flash.flow_rolled_back")
    return response


@router.post("/admin/flows/{name}/prompt", dependencies=[Csrf])
async def edit_prompt(
    request: Request, name: str, backoffice: BackofficeDep, viewer: PageViewer,
) -> Response:  # fmt: skip
    """The prompt form: one prompt's text changed in the draft, which is checked again."""
    _admin(viewer)
    form = await request.form()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    draft = fields.get("yaml", "")
    prompt_id, _, language = fields.get("prompt", "").partition(":")
    new_text = fields.get(f"text:{prompt_id}:{language}", "").strip()
    if len(draft) > YAML_FIELD or not new_text or len(new_text) > PROMPT_FIELD:
        raise Invalid(f"a prompt's text must be 1 to {PROMPT_FIELD} characters")
    try:
        changed = flow_admin.set_prompt_text(draft, prompt_id, language, new_text)
    except flow_admin.NoSuchPrompt as exc:
        raise Invalid(str(exc)) from None
    found = flow_admin.review(changed, _name(name))
    return _editor(request, backoffice, name, found, checked=True,
                   status=200 if found.ok else 422)  # fmt: skip


def _clock(text: str, tz: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(f"bad clock {text!r}: use YYYY-MM-DDTHH:MM") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo(tz))


def _inputs(raw: str) -> list[str]:
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        value = None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Invalid("the walk's inputs are not a list of keys; start the walk again")
    return value


@router.post("/admin/flows/{name}/walk", dependencies=[Csrf])
def walk_step(
    request: Request, name: str, backoffice: BackofficeDep, viewer: PageViewer,
    yaml: Annotated[str, Form(max_length=YAML_FIELD)] = "",
    clock: Annotated[str, Form(max_length=40)] = "",
    inputs: Annotated[str, Form(max_length=20_000)] = "[]",
    typed: Annotated[str, Form(max_length=64)] = "",
    key: Annotated[str | None, Form(max_length=8)] = None,
    outcome: Annotated[str | None, Form(max_length=64)] = None,
    restart: Annotated[str | None, Form(max_length=8)] = None,
) -> Response:  # fmt: skip
    """One step of the simulated call: the same engine, replayed from the inputs so far."""
    _admin(viewer)
    found = flow_admin.review(yaml, _name(name))
    if found.flow is None or not found.ok:
        return _editor(request, backoffice, name, found, checked=True, status=422,
                       walk_error="walk.needs_valid")  # fmt: skip
    start = WalkStart(_clock(clock, found.flow.timezone) if clock else
                      datetime.now(ZoneInfo(found.flow.timezone)))  # fmt: skip
    try:
        current = walk(found.flow, start, [] if restart else _inputs(inputs), typed)
        if key is not None and not restart:
            current = press(found.flow, start, current, TIMEOUT if key == "timeout" else key)
        elif outcome is not None and not restart:
            current = choose(found.flow, start, current, outcome)
    except WalkInputError as exc:
        raise Invalid(str(exc)) from None
    return _editor(request, backoffice, name, found, walked=current, start=start)
