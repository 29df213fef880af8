"""Test databases: migrated and seeded once per run as a template, then copied per test
(SQLite: a file copy; PostgreSQL: CREATE DATABASE … TEMPLATE)."""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from demo.seed import seed_demo
from models.db import Database
from models.migration import upgrade_to_head


class TemplateDatabases:
    def __init__(self, base_url: str | None, workdir: Path, now: datetime, days_ahead: int):
        self.base_url = base_url
        self.workdir = workdir
        self.now = now
        self.days_ahead = days_ahead
        self.run_id = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self._counter = itertools.count()
        self.is_postgres = bool(base_url) and base_url.startswith("postgresql")
        self.template_url = self._create_template()

    # PostgreSQL -----------------------------------------------------------------------
    def _admin(self):
        return create_engine(self.base_url, isolation_level="AUTOCOMMIT", pool_size=1)

    def _pg_url(self, name: str) -> str:
        return make_url(self.base_url).set(database=name).render_as_string(hide_password=False)

    def _create_template(self) -> str:
        if self.is_postgres:
            name = f"meguro_tmpl_{self.run_id}"
            engine = self._admin()
            with engine.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                c.execute(text(f'CREATE DATABASE "{name}"'))
            engine.dispose()
            url = self._pg_url(name)
        else:
            path = self.workdir / "template.sqlite3"
            url = f"sqlite:///{path}"
        upgrade_to_head(url)
        db = Database(url)
        with db.write() as session:
            seed_demo(session, self.now, self.days_ahead)
        if not self.is_postgres:
            with db.engine.connect() as c:
                c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.dispose()
        return url

    def fresh(self) -> str:
        n = next(self._counter)
        if self.is_postgres:
            name = f"meguro_t_{self.run_id}_{n}"
            engine = self._admin()
            with engine.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "meguro_tmpl_{self.run_id}"'))
            engine.dispose()
            return self._pg_url(name)
        path = self.workdir / f"test_{n}.sqlite3"
        shutil.copy(self.workdir / "template.sqlite3", path)
        return f"sqlite:///{path}"

    def drop(self, url: str) -> None:
        if self.is_postgres:
            name = make_url(url).database
            engine = self._admin()
            with engine.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            engine.dispose()
        else:
            path = Path(make_url(url).database)
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)

    def close(self) -> None:
        if self.is_postgres:
            engine = self._admin()
            with engine.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "meguro_tmpl_{self.run_id}" WITH (FORCE)'))
            engine.dispose()
