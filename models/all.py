"""Imports every mapped class so that Base.metadata is complete (Alembic, create_all)."""

from models.account import GroupClass, Resident, ResidentGroupClass  # noqa: F401
from models.equipment import ReservationEquipment  # noqa: F401
from models.facility import (  # noqa: F401
    ClosedDate,
    EquipmentItem,
    Facility,
    FacilityCategory,
    FeeRate,
    Purpose,
    RefundBand,
    Room,
    TimeBand,
)
from models.introduction import GroupIntroduction  # noqa: F401
from models.lottery import LotteryApplication, LotteryAudit, LotteryEntry, LotteryMonth, LotteryRoom  # noqa: F401
from models.notice import Message, Notice  # noqa: F401
from models.outbox import OutboxMail  # noqa: F401
from models.payment import CardCharge, Settlement  # noqa: F401
from models.reservation import Application, Counter, CounterPayment, Reservation, SubmissionToken  # noqa: F401
