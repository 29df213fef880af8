"""The text of every mail (DESIGN "Email", guide §5-1 ⑦ and §5-2 ⑬), in the resident's
language through the same catalogue as the screens, without Flask: operations call it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache

from babel.support import NullTranslations, Translations

from web.formats import MONTHS_EN_LONG, mail_band, mail_date, yen
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
    # A void whose booking stands, a new charge taking its place (備品 changed after paying).
    replaced_by_new_charge: bool = False


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
    ]
    if facts.replaced_by_new_charge:
        # Beyond the guide (issue 11): its words above read as the room being cancelled.
        lines.append(
            t(
                N_(
                    "ご予約は取り消されていません。使用料が変わったため以前の決済を取り消し、新しい金額で決済しました（決済完了通知を別にお送りします）。"
                )
            )
        )
    lines += [
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


@dataclass(frozen=True)
class LotteryResultLine:
    """One entry's result in the notice: a 当選 with its booking, or a 落選 with its reason
    (`reason` None when it was simply drawn after another entry for the slot)."""

    won: bool
    application_number: str
    use_date: date
    starts_at: time
    ends_at: time
    place: str
    reservation_number: str | None = None
    fee_yen: int | None = None
    deadline: date | None = None
    reason: str | None = None  # models.lottery_rules.LostReason value, never "draw"


@dataclass(frozen=True)
class LotteryResultFacts:
    resident_name: str
    use_month: date
    result_date: date
    first_come_date: date
    lines: tuple[LotteryResultLine, ...]


# Why an entry lost when it was not by the draw (DESIGN "Notices").
LOST_REASONS = {
    "cap": N_("1団体あたりの当選と予約の上限（1か月の利用分あたり）に達していたため"),
    "slot_unavailable": N_("抽選の時点で、この時間帯が予約済または休館日になっていたため"),
    "not_eligible": N_(
        "抽選の時点で、登録団体の条件（有効な利用者登録と社会教育関係団体の団体区分）を満たしていなかったため"
    ),
}


def _month(month: date, locale: str) -> str:
    return f"{MONTHS_EN_LONG[month.month - 1]} {month.year}" if locale == "en" else f"{month.year}年{month.month}月"


def lottery_result_mail(facts: LotteryResultFacts, centre: CallCentre, locale: str = "ja") -> Mail:
    """抽選結果のお知らせ (DESIGN "Notices"): every result of the group for the month in one mail."""
    t = _t(locale)
    lines = [
        *_greeting(t, facts.resident_name),
        t(
            N_("%(month)s分の抽選結果をお知らせします（抽選結果の発表日：%(date)s）。"),
            month=_month(facts.use_month, locale),
            date=mail_date(facts.result_date, locale),
        ),
    ]
    for line in facts.lines:
        lines += ["", t(N_("【当選】")) if line.won else t(N_("【落選】"))]
        lines.append(t(N_("抽選申込番号：%(number)s"), number=line.application_number))
        if line.won:
            lines.append(t(N_("予約番号：%(number)s"), number=line.reservation_number))
        lines += _booking_lines(t, line, locale)
        if line.won:
            lines += [
                t(N_("使用料：%(amount)s"), amount=yen(line.fee_yen or 0, locale)),
                t(N_("支払期限：%(date)s"), date=mail_date(line.deadline, locale)),
            ]
        elif line.reason in LOST_REASONS:
            lines.append(t(N_("落選の理由：%(reason)s"), reason=t(LOST_REASONS[line.reason])))
    lines.append("")
    if any(line.won for line in facts.lines):
        lines += [
            t(
                N_(
                    "当選した予約は、支払期限までに、マイメニューの「クレジット決済」または利用施設の窓口で使用料をお支払いください。"
                )
            ),
            t(N_("支払期限までにお支払いがない場合、予約は自動的に取消されます。")),
        ]
    if any(not line.won for line in facts.lines):
        lines.append(
            t(
                N_("落選した時間帯も、空きがあれば%(date)sから先着順で申込できます（一般空き申込）。"),
                date=mail_date(facts.first_come_date, locale),
            )
        )
    lines += [""] + _footer(t, centre, apologetic=False)
    return Mail(t(N_("目黒区施設予約システム 抽選結果のお知らせ")), "\n".join(lines) + "\n")
