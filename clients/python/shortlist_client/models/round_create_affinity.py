from enum import StrEnum


class RoundCreateAffinity(StrEnum):
    IMPORTED = "imported"
    KEYWORDS = "keywords"
    TEXT = "text"

    def __str__(self) -> str:
        return str(self.value)
