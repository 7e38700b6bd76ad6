"""The page routers, gathered; none of them is under /api."""

from fastapi import APIRouter

from backoffice.web.routes import apply, dashboard, live, session

page_router = APIRouter(include_in_schema=False)
page_router.include_router(session.router)
page_router.include_router(live.router)
page_router.include_router(dashboard.router)
page_router.include_router(apply.router)
