from enum import StrEnum


class RoundStatus(StrEnum):
    CLOSED = "closed"
    DRAFT = "draft"
    OPEN = "open"
    PUBLISHED = "published"
    REVIEW = "review"

    def __str__(self) -> str:
        return str(self.value)
