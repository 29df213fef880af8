"""Delivery of the outbox (DESIGN "Email"): claim a due mail, send it over SMTP (or write it
as an .eml file when no SMTP server is configured), then mark it sent, schedule a retry, or,
when the receiving server refuses it for good, mark it undeliverable. Takes the database
and `now` explicitly; no Flask."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import signal
import smtplib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from enum import Enum
from pathlib import Path

from sqlalchemy import and_, exists, func, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import aliased

from models.db import Database
from models.outbox import OutboxMail

# Refusals by a working server, after which smtplib keeps the connection usable (which of
# them end the pass and which concern one message only: classify).
MESSAGE_REFUSALS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused)
RETRY_BASE = timedelta(seconds=30)
RETRY_MAX = timedelta(minutes=30)
# A message the server keeps refusing for a while (4xx) is given up this long after its
# first refusal, as mail servers do (RFC 5321 §4.5.4.1 suggests 4–5 days). Our own server
# being unreachable or refusing everything is not a refusal of the message: those mails
# wait however long it takes.
GIVE_UP_AFTER = timedelta(days=5)
# A claimed mail is left alone by other workers this long; longer than any SMTP timeout, so
# only a worker that died mid-send gives its mail back (MAIL_CLAIM_LEASE_SECONDS).
CLAIM_LEASE = timedelta(minutes=5)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Refusal(str, Enum):
    """What an SMTP failure says about the message, as stored in OutboxMail.undeliverable_reason."""

    ADDRESS = "address"  # 5xx to RCPT TO (5.1.x no such mailbox, bad address): for good
    CONTENT = "content"  # 5xx to DATA (message too big, content rejected): for good
    TEMPORARY = "temporary"  # 4xx for this message: retried, given up after GIVE_UP_AFTER
    SERVER = "server"  # our server unusable for every message (unreachable, 421, sender or
    # relay refused, 5.7.x policy): the pass stops, retried however long it takes


_ENHANCED_STATUS = re.compile(rb"\s*([245])\.(\d{1,3})\.(\d{1,3})")


def _policy(reply: bytes | str) -> bool:
    """A 5.7.x enhanced status (RFC 3463: security or policy, e.g. relay access denied):
    our server's rules, not this message's fault."""
    text = reply.encode() if isinstance(reply, str) else (reply or b"")
    match = _ENHANCED_STATUS.match(text)
    return bool(match) and match.group(2) == b"7"


def classify(exc: BaseException) -> Refusal:
    """Whose problem a failed send is: the receiving side's (for this message's address or
    content, or for now) or our own server's."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = list(exc.recipients.values())
        if not replies or any(code == 421 or (code >= 500 and _policy(text)) for code, text in replies):
            return Refusal.SERVER
        return Refusal.ADDRESS if all(code >= 500 for code, _ in replies) else Refusal.TEMPORARY
    if isinstance(exc, smtplib.SMTPDataError):
        if exc.smtp_code == 421 or (exc.smtp_code >= 500 and _policy(exc.smtp_error)):
            return Refusal.SERVER
        return Refusal.CONTENT if exc.smtp_code >= 500 else Refusal.TEMPORARY
    if isinstance(exc, (smtplib.SMTPSenderRefused, OSError)):  # smtplib's other errors are OSErrors
        return Refusal.SERVER
    return Refusal.TEMPORARY  # anything else went wrong with this message only


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min … at most 30 min between attempts."""
    return min(RETRY_BASE * (2 ** min(max(attempts - 1, 0), 16)), RETRY_MAX)


@dataclass(frozen=True)
class QueuedMail:
    """A claimed outbox row, detached from any session."""

    id: int
    dedupe_key: str
    to_address: str
    subject: str
    body: str
    attempts: int
    first_refused_at: datetime | None


def _earlier_unsent_exists():
    """An earlier mail to the same address that is not sent yet (nor given up): it goes
    first (a 取消通知 queued before its 完了通知 arrives first), whoever is sending it and
    whenever."""
    earlier = aliased(OutboxMail)
    return exists().where(
        earlier.to_address == OutboxMail.to_address,
        earlier.sent_at.is_(None),
        earlier.undeliverable_at.is_(None),
        earlier.id < OutboxMail.id,
    )


def _due(now: datetime):
    return and_(
        OutboxMail.sent_at.is_(None),
        OutboxMail.undeliverable_at.is_(None),
        OutboxMail.to_address.is_not(None),
        OutboxMail.next_attempt_at <= now,
        ~_earlier_unsent_exists(),
    )


def claim_next(database: Database, now: datetime, lease: timedelta = CLAIM_LEASE) -> QueuedMail | None:
    """Take the oldest due mail for this worker by moving its next_attempt_at past the lease,
    so that no other worker finds it due. PostgreSQL: the row is locked with FOR UPDATE SKIP
    LOCKED, so workers claiming at the same moment take different mails instead of queueing
    behind one another; the partial indexes on unsent mail (ix_outbox_mails_unsent*) make
    the search independent of how many mails were sent before. SQLite (one writer at a
    time): a conditional UPDATE, retried if another process took the mail in between."""
    if not database.is_sqlite:
        return _claim_skip_locked(database, now, lease)
    while True:
        with database.write() as session:
            mail_id = session.scalar(select(OutboxMail.id).where(_due(now)).order_by(OutboxMail.id).limit(1))
            if mail_id is None:
                return None
            claimed = session.execute(
                update(OutboxMail)
                .where(OutboxMail.id == mail_id, _due(now))
                .values(next_attempt_at=now + lease)
                .execution_options(synchronize_session=False)
            ).rowcount
            if claimed != 1:
                continue  # another worker took it between the SELECT and the UPDATE
            return _queued(session.get(OutboxMail, mail_id))


def _relaxed_commit(session) -> None:
    """PostgreSQL: this transaction's commit does not wait for its WAL to reach the disk.
    Only a crash of the database server itself can lose it (the last fraction of a second),
    and a lost claim or sent mark only means a mail sent again with the same Message-ID,
    which the issue accepts; the wait for the disk was most of the time a mail took."""
    session.execute(text("SET LOCAL synchronous_commit TO OFF"))


def _claim_skip_locked(database: Database, now: datetime, lease: timedelta) -> QueuedMail | None:
    """One statement: lock the oldest due mail no other worker holds and move it past the
    lease (UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED) RETURNING)."""
    oldest_due = (
        select(OutboxMail.id)
        .where(_due(now))
        .order_by(OutboxMail.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .correlate(None)  # its own scan of outbox_mails, not the UPDATE's row
        .scalar_subquery()
    )
    with database.write() as session:
        _relaxed_commit(session)
        row = session.execute(
            update(OutboxMail)
            .where(OutboxMail.id == oldest_due)
            .values(next_attempt_at=now + lease)
            .returning(
                OutboxMail.id,
                OutboxMail.dedupe_key,
                OutboxMail.to_address,
                OutboxMail.subject,
                OutboxMail.body,
                OutboxMail.attempts,
                OutboxMail.first_refused_at,
            )
            .execution_options(synchronize_session=False)
        ).one_or_none()
        return QueuedMail(*row) if row is not None else None


def _queued(row: OutboxMail) -> QueuedMail:
    return QueuedMail(row.id, row.dedupe_key, row.to_address, row.subject, row.body, row.attempts, row.first_refused_at)


def mark_sent(database: Database, mail_id: int, now: datetime) -> None:
    with database.write() as session:
        if not database.is_sqlite:
            _relaxed_commit(session)
        session.execute(
            update(OutboxMail)
            .where(OutboxMail.id == mail_id, OutboxMail.sent_at.is_(None))
            .values(sent_at=now, attempts=OutboxMail.attempts + 1, last_error=None)
            .execution_options(synchronize_session=False)
        )


def _still_as_claimed(mail: QueuedMail):
    """The row as this worker claimed it: not sent, and still for the address it tried (a
    resident who changed the address meanwhile has re-addressed it; the lease then runs
    out and the mail goes to the new address)."""
    return and_(OutboxMail.id == mail.id, OutboxMail.sent_at.is_(None), OutboxMail.to_address == mail.to_address)


def mark_failed(database: Database, mail: QueuedMail, error: str, now: datetime, *, refused: bool) -> datetime:
    """Keep the mail and try again later; returns when. `refused`: the server refused this
    message (not our server being unusable), which starts the GIVE_UP_AFTER period."""
    attempts = mail.attempts + 1
    retry_at = now + retry_delay(attempts)
    values = dict(attempts=attempts, last_error=error[:1000], next_attempt_at=retry_at)
    if refused:
        values["first_refused_at"] = func.coalesce(OutboxMail.first_refused_at, now)
    with database.write() as session:
        session.execute(
            update(OutboxMail)
            .where(_still_as_claimed(mail))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    return retry_at


def mark_undeliverable(database: Database, mail: QueuedMail, reason: Refusal, error: str, now: datetime) -> None:
    """Never try this mail again; the mails after it to the same address go on."""
    with database.write() as session:
        session.execute(
            update(OutboxMail)
            .where(_still_as_claimed(mail))
            .values(
                attempts=OutboxMail.attempts + 1,
                last_error=error[:1000],
                undeliverable_at=now,
                undeliverable_reason=reason.value,
            )
            .execution_options(synchronize_session=False)
        )


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "localhost"


def build_message(mail: QueuedMail, mail_from: str, now: datetime) -> EmailMessage:
    """A UTF-8 text/plain message; the Japanese subject is RFC 2047 encoded. The Message-ID
    is derived from the outbox row, so a retry after a lost answer carries the same one."""
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = mail_from
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(now)
    digest = hashlib.sha256(mail.dedupe_key.encode()).hexdigest()[:16]
    message["Message-ID"] = f"<outbox.{mail.id}.{digest}@{_domain(mail_from)}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.body, charset="utf-8", cte="base64")
    return message


class SmtpTransport:
    """One SMTP connection per worker pass, opened at the first mail."""

    def __init__(self, host: str, port: int, timeout: float = 30.0):
        self.host, self.port, self.timeout = host, port, timeout
        self._smtp: smtplib.SMTP | None = None

    def send(self, mail: QueuedMail, message: EmailMessage) -> None:
        if self._smtp is None:
            self._smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            self._smtp.send_message(message)
        except MESSAGE_REFUSALS:
            raise  # the connection is still good (smtplib has reset the transaction)
        except OSError:  # smtplib's errors included
            self._drop()
            raise

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.close()
            except OSError:
                pass

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()


class FileTransport:
    """Without SMTP_HOST: each mail becomes <instance>/mail/<id>-<event>.eml."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.last_path: Path | None = None

    def path_for(self, mail: QueuedMail) -> Path:
        # The event in the name helps people browsing the folder (capture-…, void-…).
        event = re.sub(r"[^A-Za-z0-9_-]+", "-", mail.dedupe_key).strip("-")
        return self.directory / f"{mail.id:08d}-{event}.eml"

    def send(self, mail: QueuedMail, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path_for(mail)
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(message.as_bytes())
        os.replace(temporary, path)  # a reader never sees half a file
        self.last_path = path

    def close(self) -> None:
        pass


@dataclass
class DeliveryResult:
    sent: int = 0
    failed: int = 0  # kept for a retry
    undeliverable: int = 0  # given up: refused for good, or for longer than GIVE_UP_AFTER


@contextlib.contextmanager
def _uninterruptible() -> Iterator[None]:
    """SIGTERM and SIGINT wait until the block ends, then take their course (the worker's
    loop stops; `--once` ends): a mail the server accepted is recorded as sent before a stop
    can come between. Only kill -9 still can; the mail is then sent again after CLAIM_LEASE,
    with the same Message-ID. Python runs signal handlers in the main thread only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {signum: signal.signal(signum, lambda n, _frame: received.append(n)) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in received:
            signal.raise_signal(signum)


def _record_sent(database: Database, mail_id: int, now: datetime, attempts: int = 5) -> None:
    """mark_sent, tried again for a few seconds if the database hiccups: the mail is out,
    and a lost record would send it twice."""
    for attempt in range(attempts):
        try:
            mark_sent(database, mail_id, now)
            return
        except OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5 * 2**attempt)


def deliver_due_mail(
    database: Database,
    transport,
    mail_from: str,
    now: datetime,
    limit: int = 100,
    should_stop: Callable[[], bool] = lambda: False,
    lease: timedelta = CLAIM_LEASE,
) -> DeliveryResult:
    """Send due mails one by one, oldest first, until none is due, `limit` is reached or
    `should_stop()` says so. When the server cannot be reached the pass stops: the next one
    tries again."""
    result = DeliveryResult()
    try:
        for _ in range(limit):
            if should_stop():
                break
            mail = claim_next(database, now, lease)
            if mail is None:
                break
            failure = None
            with _uninterruptible():
                try:
                    transport.send(mail, build_message(mail, mail_from, now))
                except Exception as exc:
                    failure = exc
                else:
                    _record_sent(database, mail.id, now)  # if even this fails, the pass stops
            if failure is None:
                result.sent += 1
                continue
            error = f"{type(failure).__name__}: {failure}"
            refusal = classify(failure)
            if refusal is Refusal.SERVER:
                mark_failed(database, mail, error, now, refused=False)
                result.failed += 1
                break  # the server (or the mail folder) is unusable: the rest waits for the next pass
            if refusal is Refusal.TEMPORARY and (
                mail.first_refused_at is None or now - mail.first_refused_at < GIVE_UP_AFTER
            ):
                mark_failed(database, mail, error, now, refused=True)
                result.failed += 1
                continue  # this message only: go on with the others
            mark_undeliverable(database, mail, refusal, error, now)
            result.undeliverable += 1
    finally:
        transport.close()
    return result
