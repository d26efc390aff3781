from enum import StrEnum


class Calibration(StrEnum):
    NONE = "none"
    ZSCORE = "zscore"

    def __str__(self) -> str:
        return str(self.value)
