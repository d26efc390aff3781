from enum import StrEnum


class Scope(StrEnum):
    APPLICATIONSREAD = "applications:read"
    APPLICATIONSWRITE = "applications:write"
    AUDITREAD = "audit:read"
    REVIEWSREAD = "reviews:read"
    REVIEWSWRITE = "reviews:write"
    ROUNDSADMIN = "rounds:admin"

    def __str__(self) -> str:
        return str(self.value)
