"""The conformance claim of アクセシビリティ方針, in the wording of the JIS X 8341-3:2016
対応度表記ガイドライン: what the published test results allow the site to say."""

from __future__ import annotations

from enum import Enum


class Conformance(str, Enum):
    """対応度: 準拠, 一部準拠 or 配慮 (the guideline's three levels of claim)."""

    CONFORMS = "conforms"  # 準拠
    PARTIALLY_CONFORMS = "partially_conforms"  # 一部準拠
    CONSIDERED = "considered"  # 配慮


def conformance_rule(*, tested: bool, complete: bool, violations: int, all_criteria_verified: bool) -> Conformance:
    """準拠 only when a complete test run found no problem and every success criterion of
    the target level has been verified (tools decide only some of them; the others need a
    person's judgement). 一部準拠 when test results are published but that does not hold.
    配慮 when there are no test results to publish."""
    if not tested:
        return Conformance.CONSIDERED
    if complete and violations == 0 and all_criteria_verified:
        return Conformance.CONFORMS
    return Conformance.PARTIALLY_CONFORMS
