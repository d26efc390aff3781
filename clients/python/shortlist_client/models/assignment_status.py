from enum import StrEnum


class AssignmentStatus(StrEnum):
    ACTIVE = "active"
    CONFLICTED = "conflicted"
    RECUSED = "recused"

    def __str__(self) -> str:
        return str(self.value)
