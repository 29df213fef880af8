"""`flask` commands of the web layer: init-db (Alembic upgrade), static-collect and catalogue-update."""

from __future__ import annotations

import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.command("init-db")
    def init_db() -> None:
        """Create or upgrade the schema to the newest migration."""
        from models.migration import upgrade_to_head

        upgrade_to_head(app.config["DATABASE_URL"])
        click.echo("database at the newest schema")

    @app.cli.command("static-collect")
    @click.argument("target", type=click.Path(file_okay=False))
    def static_collect(target: str) -> None:
        """Write the static and npm files under their content-hashed names into
        TARGET/static and TARGET/vendor, for nginx to serve with a year's cache."""
        from pathlib import Path

        from web.static_files import collect

        count = collect(app, Path(target))
        click.echo(f"{count} files written under {target} (hashed and plain names)")

    @app.cli.command("catalogue-update")
    def catalogue_update() -> None:
        """Extract every UI text and update locales/ja and locales/en; list what en lacks."""
        from web.catalogue import update

        missing = update()
        from web.i18n import compile_catalogues

        compile_catalogues()  # a developer's command: the source tree's .mo follow the .po
        for msgid in missing["en"]:
            click.echo(f"en missing: {msgid}")
        click.echo(f"{len(missing['en'])} English translations missing")
