"""Server-rendered back-office pages: Jinja2 templates, session cookies, CSRF, two languages.

`install(app)` mounts the page routers, the static files and the HTML error pages next to the
REST API. Pages call the same service layer as the API and never the tables directly.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

WEB_DIR = Path(__file__).parent
STATIC_URL = "/static"


def install(app: FastAPI) -> None:
    """Add the pages to an app that already has the API and its JSON error handlers."""
    from backoffice.web import errors
    from backoffice.web.routes import page_router

    errors.install(app)
    app.include_router(page_router)
    app.mount(STATIC_URL, StaticFiles(directory=WEB_DIR / "static"), name="static")
