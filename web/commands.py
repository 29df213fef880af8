"""`flask` commands of the web layer: init-db (Alembic upgrade), preflight, check-proxy,
static-collect and catalogue-update."""

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

    @app.cli.command("preflight")
    def preflight() -> None:
        """Check what a start needs (database reachable and at the newest migration, Redis
        when configured): one line and exit 1 on the first problem."""
        from web.preflight import check

        check(app.config)
        click.echo("preflight: database and Redis ready")

    @app.cli.command("check-proxy")
    @click.option("--url", help="The site's public address (default PUBLIC_BASE_URL).")
    def check_proxy(url: str | None) -> None:
        """Ask the site through its public address how many proxies added X-Forwarded-For
        and which scheme arrived, and compare with TRUSTED_PROXIES: exit 1 on a mismatch,
        2 when the site cannot be asked."""
        from web.proxy import ask_through_proxy

        ok, line = ask_through_proxy((url or app.config["PUBLIC_BASE_URL"]).rstrip("/"), app.config["TRUSTED_PROXIES"])
        click.echo(line, err=not ok)
        if ok is None:
            raise click.exceptions.Exit(2)
        if not ok:
            raise click.exceptions.Exit(1)

    @app.cli.command("static-collect")
    @click.argument("target", type=click.Path(file_okay=False))
    def static_collect(target: str) -> None:
        """Write the static and npm files under their content-hashed names into
        TARGET/static and TARGET/vendor, for nginx to serve with a year's cache."""
        from pathlib import Path

        from web.static_files import collect

        count = collect(app, Path(target))
        click.echo(f"{count} files written under {target} (hashed and plain names)")

    @app.cli.command("refresh-availability")
    @click.argument("codes", nargs=-1)
    def refresh_availability(codes: tuple[str, ...]) -> None:
        """After closing days, rooms, time bands or names were changed by hand in the
        database: bump the availability version of the facilities with these codes (all
        facilities without codes), so that no cached 施設別空き状況 shows the old ones."""
        from sqlalchemy import select, true

        from models.availability_version import bump_availability
        from models.facility import Facility

        with app.extensions["database"].write() as session:
            found = dict(
                session.execute(
                    select(Facility.code, Facility.id).where(Facility.code.in_(codes) if codes else true())
                ).all()
            )
            unknown = sorted(set(codes) - set(found))
            if unknown:
                raise click.ClickException(f"no facility with the code {', '.join(unknown)}; nothing changed")
            bump_availability(session, facility_ids=found.values())
        click.echo(f"availability refreshed for {len(found)} facilities")

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
