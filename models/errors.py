"""Domain failures, each named after the problem; the web layer turns each into a message."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal by a rule or an operation. Carries the facts a message needs."""

    def __init__(self, **facts):
        super().__init__(self.__class__.__name__, facts)
        self.facts = facts


class NotFound(DomainError):
    """The thing does not exist, or is not the current resident's (we do not say which)."""


class SlotTaken(DomainError):
    """Another group holds this slot. facts: slots (list of SlotRef)."""


class SlotNotBookable(DomainError):
    """Closed day, outside the booking window, already started, or unknown band."""


class RebookingBlocked(DomainError):
    """The group cancelled this room, date and slot before (再予約不可)."""


class AttendeesOutOfRange(DomainError):
    """利用人数 below 1 or above the room's capacity."""


class PurposeNotAllowed(DomainError):
    """The room does not accept this 利用目的."""


class GroupClassExpired(DomainError):
    """The 団体区分 used to apply has expired."""


class RegistrationExpired(DomainError):
    """The resident's registration (利用者登録) has expired: reading only."""


class WrongRegistrationKind(DomainError):
    """A スポーツ registration applying for an assembly room, or the other way round."""


class InvalidTransition(DomainError):
    """A reservation state change the transition table does not allow."""


class AuthenticationFailed(DomainError):
    """Registration group, number or password did not match."""


class EmptySelection(DomainError):
    """Nothing was chosen."""


class RefundPeriodExpired(DomainError):
    """The held card charge was captured more than 180 days ago: it cannot be voided online."""


class PaymentWindowClosed(DomainError):
    """The first payment's deadline has passed (rule 4)."""


class CounterPaid(DomainError):
    """Paid at the counter, wholly or partly: not payable, changeable or cancellable online."""


class NothingToSettle(DomainError):
    """Held already equals due."""


class UnknownCardSession(NotFound):
    """The provider's document is not about a card page we opened: an unknown 収納番号, or
    another session, amount or booking than that 収納番号's. Nothing is recorded.
    facts: receipt_number, mismatch (the field that differs)."""


class StaleBooking(DomainError):
    """The booking changed (fee, state) since the page was shown: look again."""


class RefundRateChanged(DomainError):
    """The refund rate shown on 予約の取消 確認 is no longer today's (the JST day changed
    between showing and sending): show the new amounts and ask again. facts: number."""


class CancellationClosed(DomainError):
    """The slot has started: the booking can no longer be cancelled online (rule 11).
    facts: number."""


class AlreadyCancelled(DomainError):
    """The booking is 取消済 already. facts: number."""


class CancelReasonRequired(DomainError):
    """A batch holding a 本予約 needs a 取消事由 (rule 11)."""


class TermsNotAgreed(DomainError):
    """The batch holds a paid booking and 同意します was not ticked (rule 11)."""


class CancellationRefused(DomainError):
    """Some of the selected bookings cannot be cancelled. facts: problems, a list of
    (number, DomainError), each saying why."""


class EquipmentAtCounterOnly(DomainError):
    """Sports facilities take equipment requests at the counter only (guide L239-L240)."""


class NoEquipmentToLend(DomainError):
    """The facility lends no equipment online."""


class EquipmentOnCancelledBooking(DomainError):
    """A 取消済 booking's equipment cannot be changed."""


class EquipmentChangeClosed(DomainError):
    """The slot has started: its equipment can no longer be changed online (rule 10)."""


class LendingTimeOutsideSlot(DomainError):
    """利用開始 or 利用終了 of the equipment is not a time within the slot.
    facts: starts_at, ends_at (the slot's)."""


class LendingTimeReversed(DomainError):
    """利用終了 of the equipment is not after its 利用開始."""


class OutOfStock(DomainError):
    """More units requested than are free for the lending time. facts: shortages
    (models.equipment_rules.Shortage: item_id, requested, available)."""
