"""Optimistic concurrency: entity tags of versioned resources and ``If-Match`` preconditions."""

from dataclasses import dataclass

from models.errors import PreconditionFailed


def etag(version: int) -> str:
    """The strong entity tag of a resource's ``version``."""
    return f'"{version}"'


@dataclass(frozen=True, slots=True)
class Precondition:
    """A parsed ``If-Match``: ``*`` (any current version) or a set of strong entity tags."""

    any: bool = False
    tags: frozenset[str] = frozenset()

    def matches(self, version: int) -> bool:
        return self.any or etag(version) in self.tags

    def ensure(self, version: int) -> None:
        """Refuse with 412 unless the resource is still at a version the caller named.

        Call it on a row locked for update, so two writers holding the same tag cannot both pass.
        """
        if not self.matches(version):
            raise PreconditionFailed(
                "the resource has changed since you read it: fetch it again and retry",
                extra={"current_etag": etag(version)},
            )


ANY_VERSION = Precondition(any=True)
"""For internal callers that already hold the row locked and need no client precondition."""
