"""The pages' message catalogue: every key a template or route uses exists in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backoffice.web import WEB_DIR
from backoffice.web.catalogue import MESSAGES
from backoffice.web.i18n import translator
from backoffice.web.security import safe_next

pytestmark = pytest.mark.unit

KEY_IN_TEMPLATE = re.compile(r"""\bt\(\s*['"]([a-z0-9_.]+)['"]""")
KEY_IN_CODE = re.compile(r"""["']((?:flash|login|error|form|search|dash|order)\.[a-z0-9_.]+)["']""")


def _used_keys() -> set[str]:
    keys: set[str] = set()
    for template in (WEB_DIR / "templates").rglob("*.html"):
        keys |= set(KEY_IN_TEMPLATE.findall(template.read_text()))
    for module in Path(WEB_DIR).rglob("*.py"):
        if module.name != "catalogue.py":
            keys |= set(KEY_IN_CODE.findall(module.read_text()))
    return keys


def test_every_key_used_is_in_the_catalogue() -> None:
    # A key ending in "." is a prefix completed at run time (role., status.).
    missing = sorted(
        k for k in _used_keys() if not k.endswith((".", ".html")) and k not in MESSAGES
    )
    assert missing == []


def test_every_entry_has_both_languages_with_the_same_placeholders() -> None:
    for key, (zh, en) in MESSAGES.items():
        assert zh.strip() and en.strip(), key
        assert set(re.findall(r"{(\w+)}", zh)) == set(re.findall(r"{(\w+)}", en)), key


def test_translator_fills_placeholders_and_defaults_to_the_key() -> None:
    assert (
        translator("en")("login.too_many", seconds=7)
        == "Too many failed sign-ins; try again in 7 s"
    )
    assert translator("zh")("login.too_many", seconds=7) == "登录失败次数过多，请 7 秒后再试"
    assert translator("zh")("no.such.key") == "no.such.key"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/orders?status=closed", "/orders?status=closed"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_only_local_paths_are_followed_after_login(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected
