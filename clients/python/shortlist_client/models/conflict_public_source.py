from enum import StrEnum


class ConflictPublicSource(StrEnum):
    DECLARED = "declared"
    DETECTED = "detected"

    def __str__(self) -> str:
        return str(self.value)
