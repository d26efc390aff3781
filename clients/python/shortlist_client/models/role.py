from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    APPLICANT = "applicant"
    REVIEWER = "reviewer"

    def __str__(self) -> str:
        return str(self.value)
