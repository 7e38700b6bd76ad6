"""What one running back office holds: built by `create_app`, reached through dependencies."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from backoffice.ratelimit import SlidingWindowLimiter
from backoffice.services.work_orders import WorkOrderConfig
from hotline.settings import Settings


@dataclass
class Backoffice:
    settings: Settings
    engine: Engine
    secret_key: bytes  # signs session cookies and CSRF tokens
    login_limiter: SlidingWindowLimiter
    web_form_limiter: SlidingWindowLimiter
    orders: WorkOrderConfig
