"""What one running back office holds: built by `create_app`, reached through dependencies."""

from __future__ import annotations

from dataclasses import dataclass, field

import redis
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
    _redis: redis.Redis | None = field(default=None, repr=False)
    _reader: Engine | None = field(default=None, repr=False)

    def reader(self) -> Engine:
        """The engine for the busiest reads, in autocommit: on PostgreSQL a request then
        sends no BEGIN and no ROLLBACK (two of a list's five round trips). Same pool."""
        if self._reader is None:
            self._reader = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        return self._reader

    def redis(self) -> redis.Redis:
        """The hotline's Redis (call events), connected on first use rather than at start."""
        if self._redis is None:
            self._redis = redis.Redis.from_url(
                self.settings.redis_url, decode_responses=True, socket_connect_timeout=2
            )
        return self._redis
