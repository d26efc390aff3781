from enum import StrEnum


class AffinitySource(StrEnum):
    IMPORTED = "imported"
    KEYWORDS = "keywords"
    TEXT = "text"

    def __str__(self) -> str:
        return str(self.value)
