"""Account mails (DESIGN "Accounts and sign-in"): the lockout notice, the password-reset
link, the password-changed notice, the new address's confirmation link and the old
address's notice. Links to a secret (reset, confirmation) go to the outbox only, never to
メッセージ, which anyone logged in as the group can read later."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from mail.compose import N_, CallCentre, Mail, _footer, _greeting, _t
from models.account import Resident
from models.outbox import OutboxMail
from models.time_rules import JST, jst_day
from web.formats import mail_date


def _finish(t, lines: list[str], centre: CallCentre, subject: str) -> Mail:
    return Mail(t(subject), "\n".join([*lines, "", *_footer(t, centre, apologetic=False)]) + "\n")


def lockout_mail(name: str, until: datetime, centre: CallCentre, locale: str = "ja") -> Mail:
    t = _t(locale)
    local = until.astimezone(JST)
    lines = [
        *_greeting(t, name),
        t(N_("パスワードの誤りが続いたため、パスワードによるログインを一時的に停止しました。")),
        t(
            N_("%(date)s %(time)s以降は、再びログインできます。"),
            date=mail_date(jst_day(until), locale),
            time=local.strftime("%H:%M"),
        ),
        t(
            N_(
                "すぐにログインしたい場合は、ログイン画面の「パスワードを忘れた場合」からパスワードを再設定してください。"
            )
        ),
        t(N_("お心当たりのない場合は、第三者がログインを試みた可能性があります。")),
    ]
    return _finish(t, lines, centre, N_("目黒区施設予約システム ログイン停止のお知らせ"))


def reset_mail(name: str, link: str, centre: CallCentre, locale: str = "ja") -> Mail:
    t = _t(locale)
    lines = [
        *_greeting(t, name),
        t(N_("パスワードの再設定を受け付けました。次のリンクを開き、新しいパスワードを設定してください。")),
        "",
        link,
        "",
        t(N_("このリンクは30分間、1回だけ使えます。")),
        t(N_("お心当たりのない場合は、このメールを破棄してください。パスワードは変わりません。")),
    ]
    return _finish(t, lines, centre, N_("目黒区施設予約システム パスワード再設定のご案内"))


def password_changed_mail(name: str, when: datetime, centre: CallCentre, locale: str = "ja") -> Mail:
    t = _t(locale)
    lines = [
        *_greeting(t, name),
        t(N_("%(date)s、パスワードが変更されました。"), date=mail_date(jst_day(when), locale)),
        t(N_("他の端末やブラウザでのログインは終了しました。")),
        t(N_("お心当たりのない場合は、すぐに下記のコールセンターへお問い合わせください。")),
    ]
    return _finish(t, lines, centre, N_("目黒区施設予約システム パスワード変更のお知らせ"))


def email_confirm_mail(name: str, link: str, centre: CallCentre, locale: str = "ja") -> Mail:
    t = _t(locale)
    lines = [
        *_greeting(t, name),
        t(N_("メールアドレスの変更を受け付けました。次のリンクを開き、変更を確定してください。")),
        "",
        link,
        "",
        t(N_("このリンクは24時間、1回だけ使えます。確定するまでは、これまでのメールアドレスにお知らせが届きます。")),
    ]
    return _finish(t, lines, centre, N_("目黒区施設予約システム メールアドレス変更の確認"))


def email_changed_mail(name: str, new_address: str, centre: CallCentre, locale: str = "ja") -> Mail:
    t = _t(locale)
    lines = [
        *_greeting(t, name),
        t(N_("登録のメールアドレスが %(address)s に変更されました。"), address=new_address),
        t(N_("今後のお知らせは新しいメールアドレスに届きます。")),
        t(N_("お心当たりのない場合は、すぐに下記のコールセンターへお問い合わせください。")),
    ]
    return _finish(t, lines, centre, N_("目黒区施設予約システム メールアドレス変更のお知らせ"))


def queue_mail_to(
    session: Session, *, resident: Resident, address: str, dedupe_key: str, mail: Mail, now: datetime
) -> None:
    """A mail to `address` in the outbox only (not in メッセージ), in the caller's transaction."""
    session.add(
        OutboxMail(
            dedupe_key=dedupe_key,
            resident_id=resident.id,
            to_address=address,
            subject=mail.subject,
            body=mail.body,
            created_at=now,
            next_attempt_at=now,
        )
    )
    session.flush()
