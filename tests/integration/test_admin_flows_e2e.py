"""The flow editor in Debian's Chromium against the running test hotline: an admin's bad edit
is flagged at its node, the fixed flow is published, and the next SIPp call follows it."""

from __future__ import annotations

from typing import Any

import pytest

from ivr import flowstore
from ivr.app import IvrService
from tests.integration.calls import Dialer, nodes, steps
from tests.integration.test_live_screens_e2e import SHOTS, browser, signed_in, web

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
__all__ = ["browser", "web"]  # fixtures used by name

WAGE_KEY = "      2: topic_wage_arrears\n"


def _edit(page: Any, change: Any) -> str:
    text = change(page.input_value("#yaml"))
    page.fill("#yaml", text)
    return str(text)


def test_admin_fixes_a_flagged_edit_publishes_and_the_next_call_follows_it(
    web: str, browser: Any, dialer: Dialer, ivr_service: IvrService
) -> None:
    engine = ivr_service.engine
    before = flowstore.active(engine, "default")
    assert before is not None
    page = signed_in(browser, web, "admin")
    page.set_viewport_size({"width": 1400, "height": 1000})
    try:
        page.goto(f"{web}/admin")
        page.click("#admin-link-flows")
        page.click("#flows a[href='/admin/flows/default']")
        assert page.input_value("#yaml") == before.yaml
        # The bad edit: key 2 goes to a node that does not exist.
        bad = _edit(page, lambda t: t.replace(WAGE_KEY, "      2: topic_wages\n"))
        with page.expect_response(f"{web}/admin/flows/default/check") as checked:
            page.click("#check")
        assert checked.value.status == 422
        line = bad.splitlines().index("      2: topic_wages") + 1
        issue = page.locator(f"#flow-issues li[data-node=main_menu][data-line='{line}']")
        assert "topic_wages" in issue.inner_text()
        assert "topic_wages" in page.inner_text("#node-main_menu .node-issues")
        assert page.locator(f"#line-{line}.bad-line").count() == 1
        assert page.locator("#graph-node-main_menu.has-issue").count() == 1
        assert page.input_value("#yaml") == bad  # the draft is kept
        page.screenshot(path=str(SHOTS / "admin-flow-editor.png"))
        # The fix: keys 2 and 5 swap places (wage arrears moves to 5).
        fixed = _edit(
            page,
            lambda t: t.replace("      2: topic_wages\n", "      2: topic_other\n").replace(
                "      5: topic_other\n", "      5: topic_wage_arrears\n", 1
            ),
        )
        page.click("#check")
        page.wait_for_selector("#check-ok")
        page.click("#publish")
        page.wait_for_selector(".flash-ok")
        live = flowstore.active(engine, "default")
        assert live is not None and live.version > before.version and live.yaml == fixed
        assert f"v{live.version}" in page.inner_text("#live-version")
        _shoot_graph(page)
        _walk_the_new_menu(page, web)
        # The FastAGI server's cache looks for a new version every 500 ms.
        page.wait_for_timeout(1200)
        call = dialer.call("12")
        assert call.record is not None and call.record["flow"]["version"] == live.version
        assert ("main_menu", "2", "choice") in steps(call)
        assert ("topic_other", None, "set") in steps(call)
        assert nodes(call)[-1] == "operator_queue"
        # Roll back in the page: the next call is on the old menu again.
        page.goto(f"{web}/admin/flows/default")
        page.click(f"#history tr[data-version='{before.version}'] .rollback")
        page.wait_for_selector(".flash-ok")
        assert flowstore.active_version(engine, "default") == before.version
        page.wait_for_timeout(1200)
        again = dialer.call("12")
        assert nodes(again)[-1] == "wage_arrears_queue"
    finally:
        flowstore.activate(engine, "default", before.version)
        page.close()


def _shoot_graph(page: Any) -> None:
    # The page scrolls the graph inside its card; the screenshot shows all of it.
    page.set_viewport_size({"width": 2100, "height": 1000})
    page.eval_on_selector(
        ".graph-scroll", "e => { e.style.overflow = 'visible'; e.style.maxHeight = 'none'; }"
    )
    page.locator("#graph svg").screenshot(path=str(SHOTS / "admin-flow-graph.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})


def _walk_the_new_menu(page: Any, web: str) -> None:
    page.fill("#walk-clock", "2026-11-24T10:00")
    page.click("#walk-start")
    page.wait_for_selector("#walk-state[data-node=choose_language]")
    page.click("#keypad button[data-key='1']")
    page.wait_for_selector("#walk-state[data-node=main_menu]")
    page.click("#keypad button[data-key='2']")
    page.wait_for_selector("#walk-state[data-node=operator_queue]")
    assert "topic_other" in page.inner_text("#walk-path")
    assert page.locator("#graph-node-operator_queue.current").count() == 1
    src = page.get_attribute("#walk-heard li[data-node=main_menu] audio.tts", "src")
    assert src is not None
    audio = page.request.get(f"{web}{src}")
    assert audio.status == 200 and audio.headers["content-type"] == "audio/wav"
    assert audio.body()[:4] == b"RIFF"
    page.locator("#walk").screenshot(path=str(SHOTS / "admin-flow-walk.png"))


def test_an_agent_cannot_open_the_admin_pages(web: str, browser: Any) -> None:
    page = signed_in(browser, web, "operator")
    for path in ("/admin", "/admin/flows", "/admin/flows/default", "/admin/tts.wav?text=x"):
        assert page.goto(f"{web}{path}").status == 403, path
    assert page.locator("#nav-admin").count() == 0
    page.close()
    anonymous = browser.new_page()
    anonymous.goto(f"{web}/admin/flows/default")
    assert "/login" in anonymous.url
    anonymous.close()
