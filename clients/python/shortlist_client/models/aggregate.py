from enum import StrEnum


class Aggregate(StrEnum):
    MEAN = "mean"
    MEDIAN = "median"

    def __str__(self) -> str:
        return str(self.value)
