"""`flask` commands of the mail package: mail-retention."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.command("mail-retention")
    @click.option(
        "--days",
        type=click.IntRange(min=30),
        default=400,
        show_default=True,
        help="Delete the delivery records of mail sent more than this many days ago.",
    )
    def mail_retention(days: int) -> None:
        """Trim the outbox: records of mail sent long ago. メッセージの確認 keeps every
        notice's text, and a 決済完了通知 stays until its booking's use date has passed."""
        from mail.retention import trim_sent_mail
        from web.clock import now
        from web.data import database

        removed = trim_sent_mail(database(), now(), timedelta(days=days))
        click.echo(f"mail-retention: {removed} records of mail sent more than {days} days ago deleted")
