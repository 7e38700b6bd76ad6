"""Fixtures for calls into the test hotline."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime

import pytest

from hotline.pbx.runner import Pbx
from hotline.settings import Settings
from ivr.app import IvrService, service_clock
from ivr.fastagi import FastAgiServer
from tests.integration.calls import Dialer


@pytest.fixture(scope="session")
def dialer(
    asterisk: Pbx, agi_server: FastAgiServer, stack_settings: Settings, ivr_service: IvrService
) -> Dialer:
    return Dialer(stack_settings, ivr_service)


@pytest.fixture
def ivr_clock(
    ivr_service: IvrService, stack_settings: Settings
) -> Callable[[str], AbstractContextManager[None]]:
    """Run the IVR as if it were another moment, the way HOTLINE_IVR_CLOCK does."""

    @contextmanager
    def at(moment: str) -> Iterator[None]:
        pinned = stack_settings.model_copy(update={"ivr_clock": datetime.fromisoformat(moment)})
        saved = ivr_service.clock
        ivr_service.clock = service_clock(pinned)
        try:
            yield
        finally:
            ivr_service.clock = saved

    return at
