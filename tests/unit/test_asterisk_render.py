"""Golden-file tests for the rendered Asterisk configuration."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from asterisk_conf import CONFIG_FILES, AgentEndpoint, PbxContext, render_config
from asterisk_conf.render import UnsafeConfigValue

pytestmark = pytest.mark.unit

GOLDEN = Path(__file__).parent / "golden"


def context(**changes: object) -> PbxContext:
    base: dict[str, object] = dict(
        hotline_number="12351",
        sip_bind="127.0.0.1",
        sip_port=5060,
        rtp_start=10000,
        rtp_end=10999,
        ami_bind="127.0.0.1",
        ami_port=5038,
        ami_user="hotline",
        ami_secret="0123456789abcdef0123456789abcdef",
        agi_url="agi://127.0.0.1:4573",
        recordings_dir="/srv/hotline/recordings",
        moh_dir="/usr/share/asterisk/moh",
        fallback="queue",
        fallback_prompt="/srv/hotline/recordings/prompts/system/fallback",
        agents=(
            AgentEndpoint(seat="1001", password="a" * 32),
            AgentEndpoint(seat="2001", password="b" * 32),
        ),
    )
    base.update(changes)
    return PbxContext(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", CONFIG_FILES)
def test_rendered_file_matches_golden(name: str) -> None:
    rendered = render_config(context())[name]
    golden = GOLDEN / name
    if os.environ.get("HOTLINE_UPDATE_GOLDEN") == "1":
        golden.write_text(rendered)
    assert rendered == golden.read_text(), f"{name} changed; rerun with HOTLINE_UPDATE_GOLDEN=1"


def test_render_is_deterministic() -> None:
    assert render_config(context()) == render_config(context())


def test_every_module_config_loaded_is_rendered() -> None:
    files = render_config(context())
    assert "autoload = no" in files["modules.conf"]
    assert "load = res_agi.so" in files["modules.conf"]
    # res_agi needs res_speech: a missing dependency would silently disable every call.
    modules = files["modules.conf"]
    assert modules.index("res_speech.so") < modules.index("res_agi.so")


def test_manager_is_loopback_only_and_least_privilege() -> None:
    manager = render_config(context())["manager.conf"]
    assert "bindaddr = 127.0.0.1" in manager
    assert "deny = 0.0.0.0/0.0.0.0" in manager
    write_line = next(line for line in manager.splitlines() if line.startswith("write ="))
    assert "command" not in write_line and "config" not in write_line


def test_each_seat_gets_an_endpoint_auth_and_aor_with_its_secret() -> None:
    pjsip = render_config(context())["pjsip.conf"]
    for seat, secret in (("1001", "a" * 32), ("2001", "b" * 32)):
        assert f"[{seat}]\ntype = endpoint" in pjsip
        assert f"[{seat}-auth]" in pjsip and f"password = {secret}" in pjsip
        assert f"[{seat}]\ntype = aor" in pjsip


def test_dialplan_filters_caller_data_before_the_agi() -> None:
    dialplan = render_config(context())["extensions.conf"]
    inbound = dialplan.split("[hotline-inbound]")[1].split("\n[")[0]
    assert inbound.index("FILTER(0123456789+,${CALLERID(num)})") < inbound.index("AGI(")
    # No application ever receives the raw dialled extension.
    assert "${EXTEN}" not in inbound


def test_dialplan_falls_back_unless_the_ivr_says_done() -> None:
    dialplan = render_config(context())["extensions.conf"]
    assert '"${HOTLINE_IVR_RESULT}" != "done"]?hotline-fallback,s,1' in dialplan
    assert "Queue(hotline-fallback" in dialplan


def test_message_fallback_has_no_queue() -> None:
    dialplan = render_config(context(fallback="message"))["extensions.conf"]
    fallback = dialplan.split("[hotline-fallback]")[1].split("\n[")[0]
    assert "Queue(" not in fallback and "Record(" in fallback


def test_system_mode_sets_directories() -> None:
    conf = render_config(context(directories={"astrundir": "/srv/x/run"}))["asterisk.conf"]
    assert "astrundir => /srv/x/run" in conf


@pytest.mark.parametrize(
    "field,value",
    [
        ("ami_secret", "abc\n[evil]"),
        ("hotline_number", "12351;x"),
        ("recordings_dir", "/tmp/a b"),
        ("fallback", "voicemail"),
    ],
)
def test_values_that_would_break_the_config_are_refused(field: str, value: str) -> None:
    with pytest.raises(UnsafeConfigValue):
        render_config(context(**{field: value}))


def test_agent_password_with_newline_is_refused() -> None:
    agents = (AgentEndpoint(seat="1001", password="x\ntype=aor"),)
    with pytest.raises(UnsafeConfigValue, match="1001"):
        render_config(context(agents=agents))
