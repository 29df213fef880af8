"""Bring a database to the newest schema with Alembic (used by `flask init-db` and tests)."""
from __future__ import annotations

from alembic import command
from alembic.config import Config as AlembicConfig

from config import ROOT


def upgrade_to_head(url: str) -> None:
    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.attributes["url"] = url
    cfg.attributes["skip_logging"] = True
    command.upgrade(cfg, "head")
