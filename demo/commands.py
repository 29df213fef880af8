"""`flask seed-demo`: reset to the demo data, card-paid bookings through the provider when
it is reachable."""

from __future__ import annotations

from functools import partial

import click
from flask import Flask

from web.clock import now
from web.data import database


def register(app: Flask) -> None:
    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Replace all data with the demo data, relative to today."""
        from demo.seed import clear, seed_demo
        from models.migration import upgrade_to_head

        upgrade_to_head(app.config["DATABASE_URL"])
        with database().write() as session:
            clear(session)
            seed_demo(session, now(), app.config["FIRST_COME_DAYS_AHEAD"])
        click.echo("demo data loaded (password: meguro2025)")
        seed_card_paid_bookings(app)


def provider_urls(app: Flask):
    """PUBLIC_BASE_URL + the payment blueprint's return and notify paths (the conventional
    paths when the blueprint is not registered in this instance)."""
    from werkzeug.routing import BuildError

    from payments.card_pages import ProviderUrls

    adapter = app.url_map.bind("localhost")
    base = app.config["PUBLIC_BASE_URL"].rstrip("/")

    def path(endpoint: str, conventional: str) -> str:
        try:
            return adapter.build(endpoint)
        except BuildError:
            return conventional

    return ProviderUrls(
        return_url=base + path("payment.return_from_provider", "/payment/return"),
        notify_url=base + path("payment.notify", "/payment/notify"),
    )


def seed_card_paid_bookings(app: Flask) -> None:
    """The card-paid demo bookings, paid through the provider; without a usable provider the
    rest of the demo data stands and a note says why there are none."""
    from demo.card_payments import DemoPaymentFailed, ProviderLedgerNotEmpty, seed_card_payments
    from mail.compose import call_centre_for
    from payments.provider import ProviderRefused, ProviderUnavailable, provider_client

    url = app.config["PAYMENT_PROVIDER_URL"]
    try:
        numbers = seed_card_payments(
            database(),
            provider_client(app.config),
            provider_urls(app),
            partial(call_centre_for, app.config),
            now(),
            app.config["FIRST_COME_DAYS_AHEAD"],
        )
    except ProviderLedgerNotEmpty as exc:
        click.echo(
            f"note: no card-paid demo bookings: the provider at {url} still holds charges ({exc}); reset its database first (bin/start does)"
        )
        return
    except (ProviderUnavailable, ProviderRefused) as exc:
        click.echo(f"note: no card-paid demo bookings: the provider at {url} cannot be used ({exc})")
        return
    except DemoPaymentFailed as exc:
        raise click.ClickException(f"a card-paid demo booking failed: {exc}") from exc
    click.echo(f"card-paid demo bookings (本予約 支払済, through the provider at {url}): {', '.join(numbers)}")
    seed_equipment_change()


def seed_equipment_change() -> None:
    """A projector added to a card-paid booking after its payment: 一部支払済, to try the
    settlement of an equipment change (guide §5-2)."""
    from demo.seed import seed_equipment_demo

    with database().write() as session:
        number = seed_equipment_demo(session, now())
    if number:
        click.echo(f"equipment demo booking (本予約 一部支払済, a projector added after the card payment): {number}")
