"""Logs as one JSON object per line (web requests and worker jobs alike), for a log
collector to index without parsing prose."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

# LogRecord attributes that are the record's own, not fields a caller passed in `extra`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# What `json.dumps(document, ensure_ascii=False, default=str)` writes, without making an encoder
# for every line (json.dumps keeps one only for its default arguments).
_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode


class JsonLines(logging.Formatter):
    """time, level, logger, message, then every field given as `extra=`; an exception's
    traceback as `exception`."""

    def format(self, record: logging.LogRecord) -> str:
        document = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                document[key] = value
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return _encode(document)


def configure_json_logging(level: int = logging.INFO) -> None:
    """Send every log record to stderr as JSON lines, once per process, unless something
    (pytest, an operator's logging set-up) has configured the root logger already."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic narrates every migration step at INFO; its warnings are what an operator needs.
    logging.getLogger("alembic").setLevel(logging.WARNING)
