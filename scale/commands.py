"""`flask seed-scale --factor N`: the ward-scale data on top of the demo data."""

from __future__ import annotations

import time

import click
from flask import Flask

from web.clock import now
from web.data import database


def register(app: Flask) -> None:
    @app.cli.command("seed-scale")
    @click.option("--factor", type=float, default=1.0, show_default=True, help="1 ≈ Meguro; 10 for growth")
    def seed_scale_command(factor: float) -> None:
        """Add ~40×N facilities, 2,000×N registrations, a year of bookings and lottery entries
        to the demo data (run `flask seed-demo` first)."""
        from scale.seed import ScaleError, seed_scale

        started = time.perf_counter()
        try:
            with database().write() as session:
                summary = seed_scale(session, now(), factor, app.config["FIRST_COME_DAYS_AHEAD"])
        except ScaleError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(
            f"scale data (factor {factor:g}) in {time.perf_counter() - started:.0f} s: "
            f"{summary.facilities} facilities, {summary.rooms} rooms, {summary.residents} registrations "
            f"(password meguro2025, numbers from 70000000), {summary.bookings} bookings "
            f"(目黒団体 {summary.demo_group_upcoming} upcoming), {summary.lottery_entries} lottery entries"
        )
