"""Builds the config-render context from settings, credentials and the installation."""

from __future__ import annotations

from pathlib import Path

from asterisk_conf import AgentEndpoint, PbxContext
from hotline.pbx.install import Installation
from hotline.secrets import Credentials
from hotline.settings import Settings

FALLBACK_PROMPT = Path("prompts") / "system" / "fallback"


def pbx_context(settings: Settings, creds: Credentials, inst: Installation) -> PbxContext:
    fallback = settings.recordings_dir / FALLBACK_PROMPT
    return PbxContext(
        hotline_number=settings.hotline_number,
        sip_bind=settings.sip_bind,
        sip_port=settings.sip_port,
        rtp_start=settings.rtp_port_start,
        rtp_end=settings.rtp_port_end,
        ami_bind=settings.ami_host,
        ami_port=settings.ami_port,
        ami_user=settings.ami_user,
        ami_secret=creds.ami_secret,
        agi_url=f"agi://{settings.agi_host}:{settings.agi_port}",
        recordings_dir=str(settings.recordings_dir),
        moh_dir=inst.moh_dir,
        fallback=settings.asterisk_fallback,
        fallback_prompt=str(fallback) if fallback.with_suffix(".sln").exists() else "",
        agents=tuple(
            AgentEndpoint(seat=seat, password=pw)
            for seat, pw in sorted(creds.seat_passwords.items())
        ),
        directories=inst.dirs(settings.var_dir),
        carrier=settings.carrier_address,
    )
