from enum import StrEnum


class ApplicationStatus(StrEnum):
    DRAFT = "draft"
    NOT_SELECTED = "not_selected"
    SHORTLISTED = "shortlisted"
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"

    def __str__(self) -> str:
        return str(self.value)
