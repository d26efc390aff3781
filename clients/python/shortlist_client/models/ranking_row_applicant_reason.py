from enum import StrEnum


class RankingRowApplicantReason(StrEnum):
    BELOW_CUTOFF = "below_cutoff"
    BELOW_MIN_TOTAL = "below_min_total"
    BELOW_THRESHOLD = "below_threshold"
    GATE_FAILED = "gate_failed"
    SHORTLISTED = "shortlisted"

    def __str__(self) -> str:
        return str(self.value)
