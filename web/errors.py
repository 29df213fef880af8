"""The one way to report an error: a list of ErrorItem shown in the error summary, from
form validation or from a domain exception, and the app's error pages."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from models import errors as domain
from web.request_log import request_id

fault_log = logging.getLogger("meguro.fault")


@dataclass(frozen=True)
class ErrorItem:
    message: str
    field_id: str | None = None  # the summary links to #field_id when there is a field

    @property
    def href(self) -> str | None:
        return f"#{self.field_id}" if self.field_id else None


def form_errors(form) -> list[ErrorItem]:
    """Every field error of a WTForms form, in the order of the fields on the page."""
    items = []
    for field in form:
        # A group of radios is reached through its first option.
        target = f"{field.id}-0" if field.type == "RadioField" else field.id
        for message in field.errors:
            items.append(ErrorItem(str(message), target))
    return items


# Messages for domain failures; the facts of the exception fill the placeholders.
DOMAIN_MESSAGES = {
    domain.NotFound: _l("指定された情報が見つかりません。一覧からもう一度選択してください。"),
    domain.SlotTaken: _l("選択した時間帯は、他の方が先に申し込みました: %(slots)s"),
    domain.SlotNotBookable: _l(
        "選択した時間帯は申込できません（休館日、申込期間外、または開始時刻を過ぎています）: %(slots)s"
    ),
    domain.RebookingBlocked: _l("この時間帯は一度取消されているため、同一コマに再予約できません: %(slots)s"),
    domain.AttendeesOutOfRange: _l("利用人数は1人から%(capacity)s人までの数字で入力してください。"),
    domain.PurposeNotAllowed: _l("利用目的は一覧から選択してください。"),
    domain.GroupClassExpired: _l(
        "団体区分の有効期限（%(expires_on)s）が過ぎているため、申込できません。登録した施設で更新の手続きをしてください。"
    ),
    domain.RegistrationExpired: _l(
        "利用者登録の有効期限（%(expires_on)s）が過ぎています。登録した施設で更新の手続きをしてください。"
    ),
    domain.WrongRegistrationKind: _l(
        "この施設は、利用者登録の種類（集会・学校／スポーツ）が異なるため申込できません。"
    ),
    domain.InvalidTransition: _l("この予約は現在の状態では処理できません。一覧を確認してください。"),
    domain.AuthenticationFailed: _l("登録施設、利用者登録番号、またはパスワードが正しくありません。"),
    domain.EmptySelection: _l("項目を選択してください。"),
    # Card payments (DESIGN rules 4, 6, 8, 13); the view adds the facility's contact.
    domain.CounterPaid: _l(
        "窓口でのお支払いがある予約は、オンラインでの決済・変更・取消はできません。利用施設までご連絡ください。"
    ),
    domain.PaymentWindowClosed: _l("支払期限（%(deadline)s）を過ぎたため、クレジット決済は行えません。"),
    domain.NothingToSettle: _l("この予約には、クレジット決済が必要な金額はありません（決済済みです）。"),
    domain.RefundPeriodExpired: _l(
        "クレジットでのお支払いから180日を過ぎたため（期限: %(last_day)s）、オンラインでのクレジット取消は行えません。利用施設までご連絡ください。"
    ),
    domain.StaleBooking: _l("予約の内容が変更されています。最新の内容を確認して、もう一度操作してください。"),
    domain.RefundRateChanged: _l(
        "日付が変わったため、還付率と還付額が変わりました。新しい還付額を確認して、もう一度「取消」を押してください。"
    ),
    # Equipment (DESIGN rule 10); the view puts the facts into words.
    # guide: L239-L240
    domain.EquipmentAtCounterOnly: _l(
        "スポーツの場合、システム上、備品の予約・変更は行えません。施設窓口にてお申込ください。"
    ),
    domain.NoEquipmentToLend: _l("この施設には、オンラインで予約できる備品（付帯品）がありません。"),
    domain.EquipmentOnCancelledBooking: _l("取消済の予約の備品（付帯品）は変更できません。"),
    domain.EquipmentChangeClosed: _l("利用開始時刻を過ぎたため、この予約の備品（付帯品）は変更できません。"),
    domain.LendingTimeOutsideSlot: _l(
        "利用開始と利用終了は、時間帯 %(starts_at)s~%(ends_at)s の中から選択してください。"
    ),
    domain.LendingTimeReversed: _l("利用終了は、利用開始より後の時刻を選択してください。"),
    domain.OutOfStock: _l("%(item)sの予約数は、貸出できる数（%(available)s）以下で入力してください。"),
    # The lottery (DESIGN "Lottery"); the view puts slots, months and moments into words.
    domain.NotLotterySlot: _l("選択した時間帯は抽選の対象ではありません（先着順で申込できます）: %(slots)s"),
    domain.LotteryPeriodClosed: _l(
        "抽選の申込期間（%(opens_at)s～%(closes_at)s）ではないため、申込できません: %(slots)s"
    ),
    domain.NotRegisteredGroup: _l(
        "抽選に申込できるのは、利用日（%(use_date)s）まで有効な社会教育関係団体の団体区分（社成人など）をお持ちの登録団体です。"
    ),
    domain.AlreadyEntered: _l("この時間帯には、すでに抽選申込をしています: %(slots)s"),
    domain.EntryCapReached: _l(
        "抽選申込は、1団体につき1か月の利用分あたり%(limit)s件までです（%(month)s分の申込: %(current)s件）。"
    ),
    domain.EntryAndBookingCapReached: _l(
        "抽選申込と予約は、合わせて1団体につき1か月の利用分あたり%(limit)s件までです（%(month)s分の抽選申込と予約: %(current)s件）。"
    ),
    domain.WithdrawalClosed: _l("抽選の申込期間（%(closes_at)sまで）が終了したため、取下げできません。"),
    domain.EntryAlreadyWithdrawn: _l("この抽選申込は、すでに取下げています。"),
    domain.LotteryMonthUnknown: _l("%(month)s分の抽選の予定はありません。"),
    domain.DrawNotDue: _l("抽選結果の発表日（%(result_at)s）になっていないため、抽選は行えません。"),
}


def domain_error_item(exc: domain.DomainError, field_id: str | None = None, **facts_in_words) -> ErrorItem:
    """The message for `exc`; `facts_in_words` replace facts the view has put into words
    (e.g. slots as "facility room date band")."""
    for cls in type(exc).__mro__:
        if cls in DOMAIN_MESSAGES:
            facts = {k: (", ".join(map(str, v)) if isinstance(v, (list, tuple)) else v) for k, v in exc.facts.items()}
            facts.update(facts_in_words)
            return ErrorItem(str(DOMAIN_MESSAGES[cls]) % facts if facts else str(DOMAIN_MESSAGES[cls]), field_id)
    raise exc


HTTP_MESSAGES = {
    400: (_l("リクエストが正しくありません"), _l("入力内容を確認して、もう一度お試しください。")),
    403: (_l("この操作は行えません"), _l("この画面を表示する権限がありません。")),
    404: (
        _l("ページが見つかりません"),
        _l("お探しのページは見つかりませんでした。アドレスを確認するか、メニューからお進みください。"),
    ),
    405: (_l("この操作は行えません"), _l("この画面はこの方法では表示できません。メニューからお進みください。")),
    413: (
        _l("送信された内容が大きすぎます"),
        _l("送信できる内容の大きさを超えています。入力内容を確認して、もう一度お試しください。"),
    ),
    429: (
        _l("しばらくお待ちください"),
        _l("短時間に多くの操作が行われました。しばらく待ってから、もう一度お試しください。"),
    ),
    500: (_l("システムエラー"), _l("処理中に問題が発生しました。時間をおいて、もう一度お試しください。")),
}


def render_error_page(status: int, detail: str | None = None):
    heading, text = HTTP_MESSAGES.get(status, HTTP_MESSAGES[500])
    errors = [ErrorItem(detail or str(text))]
    body = render_template(
        "errors/page.html",
        title=str(heading),
        errors=errors,
        heading=heading,
        error_heading=heading,
        status=status,
        reference=request_id(),
    )
    return body, status, {"Vary": "HX-Request"}


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return render_error_page(
            400,
            str(
                _l(
                    "フォームの有効期限が切れたか、正しく送信されませんでした。前の画面に戻り、もう一度操作してください。"
                )
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(exc):
        return render_error_page(exc.code or 500)

    @app.errorhandler(Exception)
    def unexpected_error(exc):
        # The page shows the request id as the reference number; this line carries it too.
        fault_log.exception(
            "unhandled error on %s %s",
            request.method,
            request.path,
            extra={"event": "fault", "request_id": request_id(), "endpoint": request.endpoint},
        )
        return render_error_page(500)
