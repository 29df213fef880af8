"""The conformance claim follows the evidence: 準拠 only with a complete, clean run and every
success criterion verified; otherwise 一部準拠 with results, 配慮 without."""

from __future__ import annotations

import pytest

from models.conformance_rules import Conformance, conformance_rule


@pytest.mark.parametrize(
    ("tested", "complete", "violations", "verified", "claim"),
    [
        (True, True, 0, True, Conformance.CONFORMS),
        (True, True, 0, False, Conformance.PARTIALLY_CONFORMS),  # tools alone cannot show 準拠
        (True, True, 3, True, Conformance.PARTIALLY_CONFORMS),
        (True, False, 0, True, Conformance.PARTIALLY_CONFORMS),  # a part of the run did not finish
        (False, False, 0, True, Conformance.CONSIDERED),
        (False, True, 0, False, Conformance.CONSIDERED),
    ],
)
def test_the_claim_follows_the_evidence(tested, complete, violations, verified, claim):
    assert (
        conformance_rule(tested=tested, complete=complete, violations=violations, all_criteria_verified=verified)
        is claim
    )
