"""Bring a database to the newest schema with Alembic (used by `flask init-db` and tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config as AlembicConfig

from config import ROOT


def alembic_config(url: str) -> AlembicConfig:
    """Alembic's configuration for the database at `url`, without its logging set-up."""
    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.attributes["url"] = url
    cfg.attributes["skip_logging"] = True
    return cfg


def upgrade_to_head(url: str) -> None:
    command.upgrade(alembic_config(url), "head")
