"""詳細申請 → 申込確認 → 申込完了 (placeholder until built)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("apply", __name__, url_prefix="/apply")
