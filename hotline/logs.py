"""One JSON line per event on stderr, so calls can be followed by their Asterisk unique id."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

_RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        line.update({k: v for k, v in record.__dict__.items() if k not in _RESERVED})
        if record.exc_info and record.levelno >= logging.ERROR:
            line["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.Formatter.converter = time.gmtime


def event(logger: logging.Logger, name: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """Log one structured event; fields become JSON keys.

    A field named like a LogRecord attribute (``created``, ``module``...) is kept as ``<name>_``:
    logging raises KeyError on such a name, and a log line must never fail the work it reports.
    """
    clashing = fields.keys() & _RESERVED
    if clashing:
        fields = {(f"{k}_" if k in clashing else k): v for k, v in fields.items()}
    logger.log(level, name, extra=fields)
