"""The flow editor's pages on SQLite and PostgreSQL: roles, check, publish, roll back, walk,
TTS preview, and bad input that is refused without losing the draft."""

from __future__ import annotations

import io
import re
import shutil
import wave
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlmodel import Session

from backoffice.app import create_app
from backoffice.services import flow_admin
from ivr import flowstore
from ivr.flowstore import FlowVersion
from ivr.prompts import tts_path
from ivr.publishing import packaged_flow_text
from tests.backoffice.conftest import SECRET, Backend
from tests.conftest import need

pytestmark = pytest.mark.integration

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
WAGE_KEY = "      2: topic_wage_arrears\n"
BROKEN = packaged_flow_text().replace(WAGE_KEY, "      2: topic_wages\n")


def swapped() -> str:
    """The shipped flow with main-menu keys 2 and 5 swapped (wage arrears <-> other)."""
    return (
        packaged_flow_text()
        .replace(WAGE_KEY, "      2: topic_other\n")
        .replace("      5: topic_other\n", "      5: topic_wage_arrears\n", 1)
    )


@pytest.fixture
def flows_db(db: Backend) -> Backend:
    """The backend with no stored flow versions."""
    flow_admin.ensure_tables(db.engine)
    with Session(db.engine) as session:
        session.exec(delete(FlowVersion))  # type: ignore[call-overload]
        session.commit()
    return db


@pytest.fixture
def pages(flows_db: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    recordings = tmp_path_factory.mktemp("recordings")
    settings = flows_db.settings.model_copy(update={"recordings_dir": recordings})
    app = create_app(settings, engine=flows_db.engine, secret_key=SECRET)
    with TestClient(app, follow_redirects=False) as client:
        yield client


def sign_in(client: TestClient, user: str) -> str:
    """Sign in through the login form; the CSRF token for the session's forms."""
    page = client.get("/login")
    token = CSRF.search(page.text)
    assert token is not None
    form = {"username": user, "password": f"demo-{user}-12351", "csrf_token": token[1]}
    answer = client.post("/login", data=form)
    assert answer.status_code == 303, answer.text
    fresh = CSRF.search(client.get("/admin" if user == "admin" else "/login").text)
    assert fresh is not None
    return fresh[1]


def test_unauthenticated_goes_to_login_and_non_admins_get_403(pages: TestClient) -> None:
    for path in ("/admin", "/admin/flows", "/admin/flows/default", "/admin/tts.wav?text=x"):
        answer = pages.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")
    for user in ("operator", "supervisor", "lawyer", "handler", "viewer"):
        pages.cookies.clear()
        sign_in(pages, user)
        for path in ("/admin", "/admin/flows", "/admin/flows/default", "/admin/tts.wav?text=x"):
            assert pages.get(path).status_code == 403, (user, path)
        token = CSRF.search(pages.get("/login").text)
        assert token is not None
        posted = pages.post(
            "/admin/flows/default/publish",
            data={"yaml": packaged_flow_text(), "csrf_token": token[1]},
        )
        assert posted.status_code == 403, user


def test_admin_index_links_every_section(pages: TestClient) -> None:
    sign_in(pages, "admin")
    page = pages.get("/admin")
    assert page.status_code == 200
    for href in (
        "/admin/flows",
        "/admin/seats",
        "/admin/skills",
        "/admin/queues",
        "/admin/holidays",
        "/admin/speech-rules",
    ):
        assert f'href="{href}"' in page.text


def test_list_shows_the_shipped_flow_until_published_then_its_live_version(
    pages: TestClient, flows_db: Backend
) -> None:
    sign_in(pages, "admin")
    listed = pages.get("/admin/flows")
    assert 'data-flow="default"' in listed.text and "未发布" in listed.text
    flowstore.publish(flows_db.engine, "default", packaged_flow_text(), "test")
    listed = pages.get("/admin/flows")
    flowstore.publish(flows_db.engine, "default", swapped(), "test")
    flowstore.activate(flows_db.engine, "default", 1)
    listed = pages.get("/admin/flows")
    row = re.search(r'data-flow="default">.*?</tr>', listed.text, re.S)
    assert row is not None and "v1 · " in row[0] and "test" in row[0]
    history = re.findall(r'\?version=(\d)"[^>]*>v\d(\*?)</a>', row[0])
    assert history == [("2", ""), ("1", "*")]  # newest first, the live one starred


def test_check_shows_the_problem_at_the_node_and_line_and_keeps_the_draft(
    pages: TestClient,
) -> None:
    csrf = sign_in(pages, "admin")
    answer = pages.post("/admin/flows/default/check", data={"yaml": BROKEN, "csrf_token": csrf})
    assert answer.status_code == 422
    html = answer.text
    line = BROKEN.splitlines().index("      2: topic_wages") + 1
    # The message is in the issue list with its line, in the outline row of the node, at the
    # gutter line of the editor, and on the node in the graph.
    issue = re.search(r'<li class="issue" data-node="main_menu" data-line="(\d+)">', html)
    assert issue is not None and int(issue[1]) == line
    assert "goes to unknown node &#39;topic_wages&#39;" in html
    outline = re.search(r'<tr id="node-main_menu"[^>]*class="has-issue"', html)
    assert outline is not None
    assert f'<span id="line-{line}" class="bad-line"' in html
    assert re.search(r'<g class="node node-menu has-issue" id="graph-node-main_menu"', html)
    assert 'data-type="missing"' in html and 'id="graph-node-topic_wages"' in html
    # The draft comes back exactly as typed.
    assert "      2: topic_wages\n" in _textarea(html)
    assert _textarea(html) == BROKEN


def _textarea(html: str) -> str:
    import html as markup

    found = re.search(r'<textarea name="yaml"[^>]*>(.*?)</textarea>', html, re.S)
    assert found is not None
    return markup.unescape(found[1])


def test_malformed_yaml_and_schema_errors_are_located(pages: TestClient) -> None:
    csrf = sign_in(pages, "admin")
    text = packaged_flow_text().replace(
        "    type: play\n    prompt: welcome", "    type: plai\n    prompt: welcome"
    )
    answer = pages.post("/admin/flows/default/check", data={"yaml": text, "csrf_token": csrf})
    assert answer.status_code == 422
    type_line = text.splitlines().index("    type: plai") + 1
    assert f'data-node="welcome" data-line="{type_line}"' in answer.text
    assert "unknown node type" in answer.text
    broken = "id: default\nnodes: [unclosed\n"
    answer = pages.post("/admin/flows/default/check", data={"yaml": broken, "csrf_token": csrf})
    assert answer.status_code == 422 and "malformed YAML at line" in answer.text
    assert _textarea(answer.text) == broken
    for nothing in ("", "   \n"):
        answer = pages.post(
            "/admin/flows/default/check", data={"yaml": nothing, "csrf_token": csrf}
        )
        assert answer.status_code == 422 and "the flow file is empty" in answer.text


def test_a_renamed_flow_is_refused(pages: TestClient) -> None:
    csrf = sign_in(pages, "admin")
    text = packaged_flow_text().replace("id: default", "id: other")
    answer = pages.post("/admin/flows/default/publish", data={"yaml": text, "csrf_token": csrf})
    assert answer.status_code == 422 and "must stay &#39;default&#39;" in answer.text


def test_publish_refuses_a_bad_draft_stores_a_good_one_and_rolls_back(
    pages: TestClient, flows_db: Backend
) -> None:
    need(shutil.which("espeak-ng") is not None, "espeak-ng (apt-get install espeak-ng sox)")
    csrf = sign_in(pages, "admin")
    engine = flows_db.engine
    answer = pages.post("/admin/flows/default/publish", data={"yaml": BROKEN, "csrf_token": csrf})
    assert answer.status_code == 422 and _textarea(answer.text) == BROKEN
    assert flowstore.versions(engine, "default") == []
    first = pages.post(
        "/admin/flows/default/publish", data={"yaml": packaged_flow_text(), "csrf_token": csrf}
    )
    assert first.status_code == 303
    fixed = swapped()
    # Browsers post a textarea with CRLF line ends; the stored flow has the file's LF.
    crlf = fixed.replace("\n", "\r\n")
    second = pages.post("/admin/flows/default/publish", data={"yaml": crlf, "csrf_token": csrf})
    assert second.status_code == 303
    live = flowstore.active(engine, "default")
    assert live is not None and live.version == 2 and live.yaml == fixed
    assert live.published_by == "系统管理员 (web)"
    page = pages.get("/admin/flows/default")
    assert "在用版本 v2" in page.text and _textarea(page.text) == fixed
    rolled = pages.post("/admin/flows/default/rollback", data={"version": "1", "csrf_token": csrf})
    assert rolled.status_code == 303
    assert flowstore.active_version(engine, "default") == 1
    assert _textarea(pages.get("/admin/flows/default").text) == packaged_flow_text()
    older = pages.get("/admin/flows/default?version=2")
    assert _textarea(older.text) == fixed
    missing = pages.post("/admin/flows/default/rollback", data={"version": "9", "csrf_token": csrf})
    assert missing.status_code == 422 and "has no version 9" in missing.text
    assert pages.get("/admin/flows/default?version=9").status_code == 404


def test_forms_without_csrf_are_refused(pages: TestClient) -> None:
    sign_in(pages, "admin")
    for action in ("check", "publish", "walk", "prompt"):
        answer = pages.post(f"/admin/flows/default/{action}", data={"yaml": packaged_flow_text()})
        assert answer.status_code == 403, action
    answer = pages.post("/admin/flows/default/rollback", data={"version": "1"})
    assert answer.status_code == 403


def test_unknown_or_bad_flow_names_are_404(pages: TestClient) -> None:
    sign_in(pages, "admin")
    assert pages.get("/admin/flows/nosuchflow").status_code == 404
    assert pages.get("/admin/flows/Bad%20Name").status_code == 404


def _walk(client: TestClient, csrf: str, html: str | None, **fields: str) -> str:
    """Post one walk step, carrying the previous page's walk state as the browser would."""
    data = {"yaml": packaged_flow_text(), "csrf_token": csrf, "clock": "2026-11-24T10:00"}
    if html is not None:
        inputs = re.search(r'name="inputs" value="([^"]*)"', html)
        typed = re.search(r'name="typed" value="([^"]*)"', html)
        import html as markup

        data["inputs"] = markup.unescape(inputs[1]) if inputs else "[]"
        data["typed"] = typed[1] if typed else ""
    answer = client.post("/admin/flows/default/walk", data={**data, **fields})
    assert answer.status_code == 200, answer.text
    return answer.text


def _state(html: str) -> tuple[str, str]:
    found = re.search(r'id="walk-state" data-state="(\w+)"(?: data-node="(\w+)")?', html)
    assert found is not None
    return found[1], found[2] or ""


def test_walk_with_the_keypad_follows_the_engine(pages: TestClient) -> None:
    csrf = sign_in(pages, "admin")
    html = _walk(pages, csrf, None, restart="1")
    assert _state(html) == ("keys", "choose_language")
    assert "您好，这里是12351职工服务热线" in html  # the welcome's text, then the language menu
    html = _walk(pages, csrf, html, key="2")  # English
    assert _state(html) == ("keys", "main_menu") and "For legal advice, press 1" in html
    html = _walk(pages, csrf, html, key="1")
    assert _state(html) == ("handoff", "legal_queue")  # Tuesday 10:00: lawyers on duty
    assert 'class="node node-handoff current" id="graph-node-legal_queue"' in html
    html = _walk(pages, csrf, html, outcome="timeout")
    assert _state(html) == ("keys", "busy_menu")
    assert re.search(r"<dt>topic</dt><dd>legal</dd>", html)
    # A multi-digit prompt gathers keys until the terminator.
    html = _walk(pages, csrf, None, restart="1")
    for key in ("1", "4", *"2026112300"):
        html = _walk(pages, csrf, html, key=key)
    assert _state(html) == ("keys", "order_number") and "已输入 2026112300" in html
    html = _walk(pages, csrf, html, key="#")  # the terminator sends the ten digits
    assert "复述号码 2026112300" in html
    html = _walk(pages, csrf, html, key="2")  # "enter it again"
    for key in "20261123000042":  # the 14th digit sends it, as GET DATA does
        html = _walk(pages, csrf, html, key=key)
    assert "复述号码 20261123000042" in html
    html = _walk(pages, csrf, html, key="1")
    assert _state(html) == ("handoff", "order_lookup")


def test_walk_clock_closes_the_lawyers_line_after_hours(pages: TestClient) -> None:
    csrf = sign_in(pages, "admin")
    html = _walk(pages, csrf, None, restart="1", clock="2026-11-24T20:00")
    for key in ("1", "1"):
        html = _walk(pages, csrf, html, key=key, clock="2026-11-24T20:00")
    assert _state(html) == ("keys", "after_hours_menu")
    assert "律师咨询时间为工作日" in html


def test_walk_refuses_bad_input_and_an_invalid_draft(pages: TestClient) -> None:
    csrf = sign_in(pages, "admin")
    base = {"yaml": packaged_flow_text(), "csrf_token": csrf, "clock": "2026-11-24T10:00"}
    for bad in ({"key": "x"}, {"key": "12"}, {"outcome": "answered"}, {"inputs": "{nope"},
                {"inputs": '["1", 2]'}, {"clock": "tomorrow", "key": "1"}):  # fmt: skip
        answer = pages.post("/admin/flows/default/walk", data={**base, **bad})
        assert answer.status_code == 422, bad
    answer = pages.post("/admin/flows/default/walk",
                        data={**base, "yaml": BROKEN, "restart": "1"})  # fmt: skip
    assert answer.status_code == 422 and 'id="walk-error"' in answer.text
    assert _textarea(answer.text) == BROKEN


def test_tts_preview_returns_wav_cached_by_text_hash_and_refuses_bad_text(
    pages: TestClient, tmp_path_factory: pytest.TempPathFactory
) -> None:
    need(shutil.which("espeak-ng") is not None, "espeak-ng (apt-get install espeak-ng sox)")
    sign_in(pages, "admin")
    answer = pages.get(
        "/admin/tts.wav", params={"text": "您好，这里是12351职工服务热线", "lang": "zh"}
    )
    assert answer.status_code == 200 and answer.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(answer.content)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        assert wav.getnframes() > 8000  # more than a second of speech
    recordings = pages.app.state.backoffice.settings.recordings_dir  # type: ignore[attr-defined]
    cached = tts_path(recordings, "您好，这里是12351职工服务热线", "cmn")
    assert cached.is_file()
    rendered_at = cached.stat().st_mtime_ns
    again = pages.get(
        "/admin/tts.wav", params={"text": "您好，这里是12351职工服务热线", "lang": "zh"}
    )
    assert again.content == answer.content and again.headers["etag"] == answer.headers["etag"]
    assert cached.stat().st_mtime_ns == rendered_at  # served from the cache, not rendered again
    bad = (("   ", "zh"), ("好" * 501, "zh"), ("hello", "xx"), ("x" * 3000, "en"))
    for text, lang in bad:
        params = {"text": text, "lang": lang}
        assert pages.get("/admin/tts.wav", params=params).status_code == 422, params


def test_prompt_form_changes_one_text_in_the_draft_and_checks_it(pages: TestClient) -> None:
    csrf = sign_in(pages, "admin")
    base = {"yaml": BROKEN, "csrf_token": csrf, "prompt": "goodbye:zh"}
    said = "谢谢来电，再见！ # 不是注释"
    answer = pages.post("/admin/flows/default/prompt", data={**base, "text:goodbye:zh": said})
    assert answer.status_code == 422  # the draft's own problem is still there, and shown
    draft = _textarea(answer.text)
    assert '    zh: "谢谢来电，再见！ # 不是注释"\n' in draft
    assert (
        draft.replace('    zh: "谢谢来电，再见！ # 不是注释"\n', "    zh: 感谢您的来电，再见。\n")
        == BROKEN
    )
    assert "topic_wages" in answer.text
    for bad in ({"text:goodbye:zh": ""}, {"prompt": "nosuch:zh", "text:nosuch:zh": "x"},
                {"text:goodbye:zh": "x" * 2001}):  # fmt: skip
        assert pages.post("/admin/flows/default/prompt", data={**base, **bad}).status_code == 422
