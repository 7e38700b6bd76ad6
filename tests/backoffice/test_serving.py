"""What a serving back-office process does at start that test apps do not."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backoffice.app import create_app
from hotline.settings import load_settings
from tests.backoffice.conftest import SECRET

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("freeze", [True, False])
def test_a_serving_app_freezes_what_it_started_with(tmp_path: Path, freeze: bool) -> None:
    # Frozen objects are out of the cycle collector's sight: no full collection walks them
    # mid-request. Tests build many apps, whose garbage must stay collectable.
    settings = load_settings(
        var_dir=tmp_path / "var",
        database_url=f"sqlite:///{tmp_path / 'bo.db'}",
        sqlite_analyze_interval_s=0,
    )
    before = gc.get_freeze_count()
    try:
        with TestClient(create_app(settings, secret_key=SECRET, freeze_gc=freeze)):
            assert (gc.get_freeze_count() > before) is freeze
    finally:
        if freeze:
            gc.unfreeze()
