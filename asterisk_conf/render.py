"""Pure rendering of every Asterisk config file Hotline owns: context in, file texts out."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from jinja2 import Environment, PackageLoader, StrictUndefined

CONFIG_FILES = (
    "asterisk.conf",
    "modules.conf",
    "logger.conf",
    "pjsip.conf",
    "rtp.conf",
    "extensions.conf",
    "manager.conf",
    "musiconhold.conf",
    "queues.conf",
    "features.conf",
    "indications.conf",
    "cdr.conf",
    "cel.conf",
    "acl.conf",
    "udptl.conf",
    "pjproject.conf",
    "ccss.conf",
    "confbridge.conf",
)

# Values that end up inside Asterisk config syntax: nothing that could open a new section,
# start a comment or smuggle a second setting onto the line.
_SAFE = re.compile(r"^[A-Za-z0-9_.:/+@=-]*$")


@dataclass(frozen=True)
class AgentEndpoint:
    """A seat's softphone account."""

    seat: str
    password: str
    # RFC 4733 keeps DTMF in the media path, which every softphone supports and which survives
    # a bridge; SIP INFO would need the agent's phone to send it explicitly.
    dtmf_mode: str = "rfc4733"


@dataclass(frozen=True)
class NativeMenu:
    """The default flow's opening menus as plain dialplan (Background/WaitExten).

    For benchmarks/ivr_load.py only: it measures the FastAGI IVR against the same menu run by
    Asterisk alone. `prompts` maps "prompt_id.language" to an audio path without extension:
    welcome.<default_language>, choose_language.<each of languages>, and main_menu, invalid_key
    and no_key in each language. Keys of `menu_keys` lead to `hotline-queue,<queue>` like the
    IVR's queue handoff; after `menu_tries` invalid or missing keys the call goes to `exit_queue`.
    """

    number: str
    prompts: Mapping[str, str]
    languages: tuple[str, ...] = ("zh", "en")
    default_language: str = "zh"
    language_keys: Mapping[str, str] = field(default_factory=lambda: {"1": "zh", "2": "en"})
    language_timeout_s: int = 3
    menu_keys: Mapping[str, str] = field(default_factory=dict)
    menu_timeout_s: int = 5
    menu_tries: int = 3
    exit_queue: str = "operator"

    def required_prompts(self) -> list[str]:
        return [
            f"welcome.{self.default_language}",
            *(f"choose_language.{lang}" for lang in self.languages),
            *(f"{p}.{lang}" for lang in self.languages for p in _NATIVE_MENU_PROMPTS),
        ]


@dataclass(frozen=True)
class BenchQueue:
    """An app_queue queue reached by its own number, for benchmarks/acd_invite.py only.

    It measures how fast Asterisk's own queue rings a member that becomes available, against
    the ACD. The settings are app_queue's fastest (see queues.conf.j2); members are the seats.
    """

    number: str
    members: tuple[str, ...]
    strategy: str = "leastrecent"
    timeout_s: int = 20  # ring timeout, the same as the ACD's
    retry_s: int = 1  # app_queue's smallest: the wait between two tries to ring a member
    wrapup_s: int = 0


_BENCH_STRATEGIES = frozenset({"leastrecent", "linear", "ringall", "rrmemory", "fewestcalls"})
_NATIVE_MENU_PROMPTS = ("main_menu", "invalid_key", "no_key")
_NATIVE_KEY = re.compile(r"^[0-9*#]$")
_NATIVE_NAME = re.compile(r"^[a-z][a-z_]{0,31}$")


@dataclass(frozen=True)
class PbxContext:
    hotline_number: str
    sip_bind: str
    sip_port: int
    rtp_start: int
    rtp_end: int
    ami_bind: str
    ami_port: int
    ami_user: str
    ami_secret: str
    agi_url: str
    recordings_dir: str
    moh_dir: str
    fallback: str = "queue"
    fallback_prompt: str = ""
    agents: tuple[AgentEndpoint, ...] = ()
    directories: Mapping[str, str] = field(default_factory=dict)
    # Benchmarks only: the menu as plain dialplan, reached by its own number.
    native_menu: NativeMenu | None = None
    bench_queue: BenchQueue | None = None  # benchmarks only: app_queue beside the ACD
    carrier: str = ""  # host:port for outgoing calls; "" renders no callback context


class UnsafeConfigValue(ValueError):
    """A value would break out of its place in an Asterisk config file."""


def render_config(ctx: PbxContext) -> dict[str, str]:
    """Render every config file; the same context always gives the same bytes."""
    _check_safe(ctx)
    env = _environment()
    return {name: env.get_template(f"{name}.j2").render(ctx=ctx) for name in CONFIG_FILES}


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("asterisk_conf", "templates"),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def _check_safe(ctx: PbxContext) -> None:
    values: dict[str, str] = {
        "hotline_number": ctx.hotline_number,
        "sip_bind": ctx.sip_bind,
        "ami_bind": ctx.ami_bind,
        "ami_user": ctx.ami_user,
        "ami_secret": ctx.ami_secret,
        "agi_url": ctx.agi_url,
        "recordings_dir": ctx.recordings_dir,
        "carrier": ctx.carrier,
        "moh_dir": ctx.moh_dir,
        "fallback_prompt": ctx.fallback_prompt,
    }
    for agent in ctx.agents:
        values[f"agent {agent.seat} seat"] = agent.seat
        values[f"agent {agent.seat} password"] = agent.password
        values[f"agent {agent.seat} dtmf_mode"] = agent.dtmf_mode
    values.update({f"directory {k}": v for k, v in ctx.directories.items()})
    for what, value in values.items():
        if not _SAFE.match(value):
            raise UnsafeConfigValue(f"{what} has characters Asterisk config can't hold: {value!r}")
    if ctx.fallback not in ("queue", "message"):
        raise UnsafeConfigValue(f"fallback must be 'queue' or 'message', not {ctx.fallback!r}")
    if ctx.native_menu is not None:
        _check_native_menu(ctx.native_menu, ctx.hotline_number)
    if ctx.bench_queue is not None:
        _check_bench_queue(ctx.bench_queue, ctx.hotline_number)


def _check_bench_queue(queue: BenchQueue, hotline_number: str) -> None:
    number = queue.number
    if not number.isascii() or not number.isdigit() or number == hotline_number:
        raise UnsafeConfigValue(
            f"bench queue number must be digits other than the hotline number: {number!r}"
        )
    if not queue.members or not all(m.isascii() and m.isdigit() for m in queue.members):
        raise UnsafeConfigValue(f"bench queue members must be seat numbers: {queue.members!r}")
    if queue.strategy not in _BENCH_STRATEGIES:
        raise UnsafeConfigValue(f"bench queue strategy is not app_queue's: {queue.strategy!r}")
    for what, value, low in (("timeout_s", queue.timeout_s, 1), ("retry_s", queue.retry_s, 1),
                             ("wrapup_s", queue.wrapup_s, 0)):  # fmt: skip
        if not isinstance(value, int) or not low <= value <= 600:
            raise UnsafeConfigValue(f"bench queue {what} must be {low}-600: {value!r}")


def _check_native_menu(menu: NativeMenu, hotline_number: str) -> None:
    if not menu.number.isascii() or not menu.number.isdigit() or menu.number == hotline_number:
        raise UnsafeConfigValue(
            f"native menu number must be digits other than the hotline number: {menu.number!r}"
        )
    missing = [key for key in menu.required_prompts() if key not in menu.prompts]
    if missing:
        raise UnsafeConfigValue(f"native menu is missing prompts: {', '.join(missing)}")
    for key, path in menu.prompts.items():
        if not path or not _SAFE.match(path):
            raise UnsafeConfigValue(f"native menu prompt {key} has an unsafe path: {path!r}")
    names = [
        menu.default_language,
        *menu.languages,
        *menu.language_keys.values(),
        *menu.menu_keys.values(),
        menu.exit_queue,
    ]
    for name in names:
        if not _NATIVE_NAME.match(name):
            raise UnsafeConfigValue(f"native menu name must be a-z and '_': {name!r}")
    if not set(menu.language_keys.values()) | {menu.default_language} <= set(menu.languages):
        raise UnsafeConfigValue("native menu offers a language it has no prompts for")
    for key in (*menu.language_keys, *menu.menu_keys):
        if not _NATIVE_KEY.match(key):
            raise UnsafeConfigValue(f"native menu key must be one DTMF key: {key!r}")
    for what, value in (
        ("language_timeout_s", menu.language_timeout_s),
        ("menu_timeout_s", menu.menu_timeout_s),
        ("menu_tries", menu.menu_tries),
    ):
        if not isinstance(value, int) or not 1 <= value <= 120:
            raise UnsafeConfigValue(f"native menu {what} must be 1-120: {value!r}")
