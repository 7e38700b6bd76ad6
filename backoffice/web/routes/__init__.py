"""The page routers, gathered; none of them is under /api."""

from fastapi import APIRouter

from backoffice.web.routes import (
    admin_config,
    admin_flows,
    apply,
    dashboard,
    live,
    orders,
    reports,
    session,
)

page_router = APIRouter(include_in_schema=False)
page_router.include_router(session.router)
page_router.include_router(live.router)
page_router.include_router(orders.router)
page_router.include_router(dashboard.router)
page_router.include_router(apply.router)
page_router.include_router(reports.router)
page_router.include_router(admin_flows.router)
page_router.include_router(admin_config.router)
