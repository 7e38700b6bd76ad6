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
