from enum import StrEnum


class ReadinessChecksAdditionalProperty(StrEnum):
    FULL = "full"
    OK = "ok"
    UNREACHABLE = "unreachable"

    def __str__(self) -> str:
        return str(self.value)
