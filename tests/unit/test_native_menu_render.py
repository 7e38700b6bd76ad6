"""The benchmark's native-dialplan menu renders only when asked for, and filters caller data."""

from __future__ import annotations

import pytest

from asterisk_conf import render_config
from asterisk_conf.render import NativeMenu, UnsafeConfigValue
from tests.unit.test_asterisk_render import context

pytestmark = pytest.mark.unit

PROMPTS = {
    f"{prompt}.{lang}": f"/srv/hotline/recordings/prompts/{prompt}_{lang}"
    for prompt in ("welcome", "choose_language", "main_menu", "invalid_key", "no_key")
    for lang in ("zh", "en")
}


def menu(**changes: object) -> NativeMenu:
    base: dict[str, object] = dict(
        number="12399", prompts=PROMPTS, menu_keys={"2": "wage_arrears", "0": "operator"}
    )
    base.update(changes)
    return NativeMenu(**base)  # type: ignore[arg-type]


def _context_text(dialplan: str, name: str) -> str:
    return dialplan.split(f"[{name}]\n")[1].split("\n[")[0]


def test_native_menu_renders_only_when_set_and_filters_like_the_ivr() -> None:
    plain = render_config(context())["extensions.conf"]
    assert "hotline-native" not in plain and "12399" not in plain

    dialplan = render_config(context(native_menu=menu()))["extensions.conf"]
    inbound = _context_text(dialplan, "hotline-inbound")
    assert "exten => 12399,1,Goto(hotline-native-menu,s,1)" in inbound
    entry = _context_text(dialplan, "hotline-native-menu")
    # Caller ID and SIP Call-ID are filtered before anything answers or plays.
    assert entry.index("FILTER(0123456789+,${CALLERID(num)})") < entry.index("Answer()")
    assert entry.index("${FILTER(0123456789abcdef") < entry.index("Answer()")
    assert "Playback(/srv/hotline/recordings/prompts/welcome_zh)" in entry
    assert "Background(/srv/hotline/recordings/prompts/choose_language_zh&" in entry
    assert "WaitExten(3)" in entry
    zh = _context_text(dialplan, "hotline-native-zh")
    assert "Background(/srv/hotline/recordings/prompts/main_menu_zh)" in zh
    assert "exten => 2,1,Set(HOTLINE_QUEUE=wage_arrears)" in zh
    assert "Goto(hotline-queue,${HOTLINE_QUEUE},1)" in zh
    assert "_en" not in zh and "main_menu_en" in _context_text(dialplan, "hotline-native-en")
    # No native context hands the dialled extension to an application.
    native = dialplan.split("[hotline-native-menu]")[1].split("[hotline-seats]")[0]
    assert "${EXTEN}" not in native
    # Everything else is exactly the dialplan without the menu.
    without = dialplan.replace(native, "").replace("[hotline-native-menu]", "")
    without = "\n".join(line for line in without.splitlines() if "12399" not in line)
    assert "Benchmarks only: the same menu" in without
    assert len(without.splitlines()) == len(plain.splitlines()) + 1


@pytest.mark.parametrize(
    "changes",
    [
        {"number": "12351"},  # the hotline number itself
        {"number": "1;x"},
        {"prompts": {**PROMPTS, "main_menu.en": "/tmp/a b"}},
        {"prompts": {k: v for k, v in PROMPTS.items() if k != "no_key.zh"}},
        {"menu_keys": {"2": "Queue,evil"}},
        {"menu_keys": {"22": "wage_arrears"}},
        {"language_keys": {"3": "fr"}},
        {"menu_timeout_s": 0},
    ],
)
def test_unsafe_native_menus_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(UnsafeConfigValue):
        render_config(context(native_menu=menu(**changes)))
