from enum import StrEnum


class EventType(StrEnum):
    APPLICATION_REOPENED = "application.reopened"
    APPLICATION_SUBMITTED = "application.submitted"
    APPLICATION_WITHDRAWN = "application.withdrawn"
    ASSIGNMENT_CREATED = "assignment.created"
    ASSIGNMENT_ENDED = "assignment.ended"
    DOCUMENT_SCANNED = "document.scanned"
    REVIEW_SUBMITTED = "review.submitted"
    ROUND_CLOSED = "round.closed"
    ROUND_OPENED = "round.opened"
    ROUND_PUBLISHED = "round.published"
    ROUND_REVIEW_STARTED = "round.review_started"

    def __str__(self) -> str:
        return str(self.value)
