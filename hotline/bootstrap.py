"""The composition root: builds the hotline's parts from settings, nothing at import time."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from acd.seats import DEMO_SEATS
from hotline import db
from hotline.pbx.install import Installation, install, locate
from hotline.pbx.runner import Pbx
from hotline.secrets import Credentials, load_credentials
from hotline.settings import Settings


def pbx(settings: Settings, *, build: bool = False) -> Pbx:
    inst: Installation = install(settings) if build else locate(settings)
    return Pbx(settings, inst, credentials(settings))


def credentials(settings: Settings) -> Credentials:
    """Generated secrets, with an account for each demo seat a fresh install starts with."""
    return load_credentials(settings.var_dir, tuple(seat for seat, _, _ in DEMO_SEATS))


def database(settings: Settings) -> Engine:
    """The engine with every table the hotline's models declare."""
    # Importing the modules registers their tables.
    import acd.seats
    import acd.skills  # noqa: F401
    import hotline.holidays
    import hotline.speech.rulestore  # noqa: F401
    import ivr.callrecord
    import ivr.flowstore
    import ivr.handoffs  # noqa: F401

    engine = db.make_engine(settings)
    db.create_tables(engine)
    return engine
