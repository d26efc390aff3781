"""Domain errors: each carries its HTTP status and a stable problem ``type`` slug.

They live beside the data so that both domain packages can raise them without importing
the HTTP edge;
``api.errors`` renders every one as RFC 9457 problem details.
"""

from collections.abc import Mapping, Sequence
from typing import Any


class DomainError(Exception):
    """A refusal the client can understand and act on."""

    status: int = 400
    type: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        type: str | None = None,
        title: str | None = None,
        status: int | None = None,
        errors: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if type is not None:
            self.type = type
        if title is not None:
            self.title = title
        if status is not None:
            self.status = status
        self.errors = list(errors) if errors is not None else None
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


class NotFound(DomainError):
    status = 404
    type = "not-found"
    title = "Not found"


class Forbidden(DomainError):
    status = 403
    type = "forbidden"
    title = "Forbidden"


class Conflict(DomainError):
    status = 409
    type = "conflict"
    title = "Conflict"


class InvalidTransition(Conflict):
    type = "invalid-transition"
    title = "Invalid transition"


class Unprocessable(DomainError):
    status = 422
    type = "validation-error"
    title = "Unprocessable content"


class PreconditionFailed(DomainError):
    status = 412
    type = "precondition-failed"
    title = "Precondition failed"


class PreconditionRequired(DomainError):
    status = 428
    type = "precondition-required"
    title = "Precondition required"
