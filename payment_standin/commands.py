"""`flask --app payment_standin.app notify-pending [--loop]`: the delivery pass by hand or
as a separate loop process (the served app also runs it in a thread)."""

from __future__ import annotations

import threading

import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.command("notify-pending")
    @click.option("--loop", is_flag=True, help="Keep running, one pass every NOTIFY_POLL_SECONDS.")
    def notify_pending(loop: bool) -> None:
        """Expire overdue sessions and deliver due notifications (one pass, or --loop)."""
        notifier = app.extensions["standin_notifier"]
        if loop:
            notifier.run_forever(threading.Event())
            return
        result = notifier.run_pass()
        click.echo(f"expired {result.expired}, delivered {result.delivered}, failed {result.failed}")
