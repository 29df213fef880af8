"""`flask` commands: init-db (Alembic upgrade), seed-demo (reset to demo data)."""
from __future__ import annotations

import click
from flask import Flask

from blueprints.core.clock import now
from blueprints.core.data import database


def register(app: Flask) -> None:
    @app.cli.command("init-db")
    def init_db() -> None:
        """Create or upgrade the schema to the newest migration."""
        from models.migration import upgrade_to_head

        upgrade_to_head(app.config["DATABASE_URL"])
        click.echo("database at the newest schema")

    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Replace all data with the demo data, relative to today."""
        from blueprints.demo.seed import clear, seed_demo
        from models.migration import upgrade_to_head

        upgrade_to_head(app.config["DATABASE_URL"])
        with database().write() as session:
            clear(session)
            seed_demo(session, now(), app.config["FIRST_COME_DAYS_AHEAD"])
        click.echo("demo data loaded (password: meguro2025)")

    register_catalogue(app)


def register_catalogue(app: Flask) -> None:
    @app.cli.command("catalogue-update")
    def catalogue_update() -> None:
        """Extract every UI text and update locales/ja and locales/en; list what en lacks."""
        from blueprints.core.catalogue import update

        missing = update()
        for msgid in missing["en"]:
            click.echo(f"en missing: {msgid}")
        click.echo(f"{len(missing['en'])} English translations missing")
