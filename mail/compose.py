"""The text of every mail (DESIGN "Email", guide §5-1 ⑦ and §5-2 ⑬), in the resident's
language through the same catalogue as the screens, without Flask: operations call it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache

from babel.support import NullTranslations, Translations

from web.formats import mail_band, mail_date, yen
from web.i18n import catalogue_directory


def N_(message: str) -> str:
    """Marks a message for extraction; translated when the mail is composed."""
    return message


@lru_cache(maxsize=4)
def _translations(locale: str) -> NullTranslations:
    return Translations.load(str(catalogue_directory()), [locale]) if locale != "ja" else NullTranslations()


@dataclass(frozen=True)
class CallCentre:
    phone: str
    hours: str


@dataclass(frozen=True)
class ChargeFacts:
    """One card charge as the mails describe it."""

    resident_name: str
    receipt_number: str
    amount_yen: int
    use_date: date
    starts_at: time
    ends_at: time
    place: str  # facility + room
    fee_yen: int  # 使用料 (or the cancellation fee)
    is_cancellation_fee: bool = False


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str


def _t(locale: str):
    tr = _translations(locale)
    return lambda message, **facts: tr.gettext(message) % facts if facts else tr.gettext(message)


def _footer(t, centre: CallCentre, apologetic: bool) -> list[str]:
    lines = [
        # guide: L228
        t(N_("本メールに心当たりがない場合やご不明な点等がありましたら、")),
        # guide: L755
        t(N_("お手数ですが下記のコールセンターへお問い合わせください。"))
        if apologetic
        # guide: L229
        else t(N_("下記のコールセンターへお問い合わせください。")),
        t(N_("TEL：%(phone)s"), phone=centre.phone),
        t(N_("(受付時間：%(hours)s)"), hours=centre.hours),
    ]
    return lines


def _greeting(t, name: str) -> list[str]:
    return [
        t(N_("%(name)s様"), name=name),
        "",
        # guide: L212
        t(N_("目黒区施設予約システムからのお知らせです。")),
    ]


def _booking_lines(t, facts, locale: str) -> list[str]:
    return [
        t(N_("利用日：%(date)s"), date=mail_date(facts.use_date, locale)),
        t(N_("利用時刻：%(band)s"), band=mail_band(facts.starts_at, facts.ends_at, locale)),
        t(N_("利用施設：%(place)s"), place=facts.place),
    ]


def _voided_lines(t, facts: ChargeFacts, locale: str) -> list[str]:
    return [
        t(N_("収納番号：%(number)s"), number=facts.receipt_number),
        t(N_("決済取消額：%(amount)s"), amount=yen(facts.amount_yen, locale)),
        *_booking_lines(t, facts, locale),
    ]


def capture_mail(facts: ChargeFacts, centre: CallCentre, locale: str = "ja") -> Mail:
    """使用料の決済完了通知 (§5-1 ⑦, §5-2 ⑬ 再決済のメール)."""
    t = _t(locale)
    lines = [
        *_greeting(t, facts.resident_name),
        # guide: L213
        t(N_("この通知は、施設使用料もしくは予約取消による不還付分のクレジット決済を行った方にお送りしています。")),
        "",
        # guide: L215
        t(N_("以下のクレジット決済が完了しました。")),
        t(N_("収納番号：%(number)s"), number=facts.receipt_number),
        t(N_("決済額：%(amount)s"), amount=yen(facts.amount_yen, locale)),
        *_booking_lines(t, facts, locale),
    ]
    if facts.is_cancellation_fee:
        lines.append(t(N_("キャンセル料(不還付額)：%(amount)s"), amount=yen(facts.fee_yen, locale)))
    else:
        lines += [
            t(N_("使用料：%(amount)s"), amount=yen(facts.fee_yen, locale)),
            "",
            # guide: L223-L226
            t(N_("【※】施設使用料のクレジット決済を行った方については、以下ご確認をお願いします。")),
            t(N_("本メールは、利用承認書の代わりとなります。")),
            t(N_("当日利用前に受付にご提示ください。")),
            t(N_("なお、体育施設については当日利用前に身分証明書を併せて受付にご提示ください。")),
        ]
    lines += [""] + _footer(t, centre, apologetic=False)
    # guide: L208
    return Mail(t(N_("目黒区施設予約システム 使用料の決済完了通知")), "\n".join(lines) + "\n")


def void_mail(facts: ChargeFacts, centre: CallCentre, locale: str = "ja") -> Mail:
    """使用料の決済取消通知 (§5-2 ⑬ 取消決済のメール, §5-3 ⑪)."""
    t = _t(locale)
    lines = [
        *_greeting(t, facts.resident_name),
        # guide: L744
        t(N_("施設予約取消について、支払い済み使用料のクレジット決済を取消しました。")),
        "",
        # guide: L746
        t(N_("以下のクレジット決済を取消しました。")),
        *_voided_lines(t, facts, locale),
        "",
    ] + _footer(t, centre, apologetic=True)
    # guide: L739
    return Mail(t(N_("目黒区施設予約システム 使用料の決済取消通知")), "\n".join(lines) + "\n")


@dataclass(frozen=True)
class ExpiryFacts:
    resident_name: str
    reservation_number: str
    use_date: date
    starts_at: time
    ends_at: time
    place: str
    deadline: date


def expiry_mail(facts: ExpiryFacts, centre: CallCentre, locale: str = "ja") -> Mail:
    """The automatic-cancellation notice (our text, DESIGN rule 4 and "Email")."""
    t = _t(locale)
    lines = [
        *_greeting(t, facts.resident_name),
        t(
            N_("以下の予約は、支払期限（%(deadline)s）までにお支払いの手続きがなかったため、取消しました。"),
            deadline=mail_date(facts.deadline, locale),
        ),
        "",
        t(N_("予約番号：%(number)s"), number=facts.reservation_number),
        *_booking_lines(t, facts, locale),
        "",
        t(N_("取消した予約と同じ室場・利用日・時間帯（同一コマ）は、貴団体では再予約できません。")),
        "",
    ] + _footer(t, centre, apologetic=True)
    return Mail(t(N_("目黒区施設予約システム 予約の自動取消通知")), "\n".join(lines) + "\n")


def superseded_mail(facts: ChargeFacts, centre: CallCentre, locale: str = "ja", *, slot_started: bool = False) -> Mail:
    """The capture arrived after the booking changed, or (a first payment) after the slot
    started: it is voided at once (DESIGN "Settlement", rule 4). Our text: what happened
    and what to do."""
    t = _t(locale)
    if slot_started:
        what = [
            t(N_("利用開始時刻を過ぎてからお支払いが完了したため、この決済は取り消します。請求は発生しません。")),
            t(N_("ご利用については、利用施設までお問い合わせください。")),
        ]
    else:
        what = [
            t(
                N_(
                    "クレジット決済の画面を開いている間に予約の内容が変更されたため、この決済は取り消します。請求は発生しません。"
                )
            ),
            t(N_("お支払いが必要な場合は、マイメニューの「クレジット決済」から、もう一度お手続きください。")),
        ]
    lines = [
        *_greeting(t, facts.resident_name),
        *what,
        "",
        *_voided_lines(t, facts, locale),
        "",
    ] + _footer(t, centre, apologetic=True)
    return Mail(t(N_("目黒区施設予約システム 使用料の決済取消通知")), "\n".join(lines) + "\n")


def call_centre_for(config, locale: str) -> CallCentre:
    """The call centre from configuration, its hours in the mail's language."""
    hours = config["CALL_CENTRE_HOURS_EN"] if locale == "en" else config["CALL_CENTRE_HOURS_JA"]
    return CallCentre(phone=config["CALL_CENTRE_PHONE"], hours=hours)
