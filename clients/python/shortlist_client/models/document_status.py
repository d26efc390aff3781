from enum import StrEnum


class DocumentStatus(StrEnum):
    CLEAN = "clean"
    INFECTED = "infected"
    PENDING_SCAN = "pending_scan"

    def __str__(self) -> str:
        return str(self.value)
