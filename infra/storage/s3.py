"""Blobs as objects in an S3-compatible bucket, through obstore."""

import ipaddress
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import obstore
from obstore.exceptions import GenericError
from obstore.store import S3Store

from infra.settings import Settings
from infra.storage.base import ObjectBlobStore

if TYPE_CHECKING:
    from obstore.store import ClientConfig, S3Config


class S3BlobStore(ObjectBlobStore):
    """Blobs as objects in an S3-compatible bucket (AWS S3, MinIO, Ceph, rclone, ...).

    Objects become visible only when their PUT or multipart upload completes, and S3 stores them
    durably before it acknowledges; a failed multipart upload is aborted. Parts are 5 MiB (the
    smallest S3 accepts), one in flight: about 10 MiB of memory per upload.
    """

    ranges_ignored = False
    """Set once the server has answered a ranged GET with the whole object: later ranged reads
    ask for the whole object at once instead of having each such answer dropped first (under
    ``make stack``'s storm, rclone sent each 5 MB object that way about 4 times per upload)."""

    async def _get(self, key: str, start: int, end: int | None) -> AsyncIterator[bytes]:
        if not self.ranges_ignored:
            try:
                return await super()._get(key, start, end)
            except GenericError as exc:
                if "non-partial response" not in str(exc):
                    raise
            self.ranges_ignored = True
        # Some S3 implementations (rclone's, among them) answer a ranged GET with the whole
        # object and 200: read the whole object and cut the range out of it while streaming.
        result = await self._get_result(key, {})
        return _slice(result.stream(min_chunk_size=self.read_chunk_size), start, end)

    async def ping(self) -> None:
        # A LIST proves the endpoint, the credentials and the bucket without writing anything.
        async for _batch in obstore.list(self._store, "_ping", chunk_size=1):
            break


async def _slice(chunks: AsyncIterator[bytes], start: int, end: int | None) -> AsyncIterator[bytes]:
    position = 0
    async for chunk in chunks:
        chunk_end = position + len(chunk)
        if chunk_end > start:
            piece = chunk[max(start - position, 0) : None if end is None else end - position]
            if piece:
                yield piece
        position = chunk_end
        if end is not None and position >= end:
            break


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_s3_store(settings: Settings, bucket: str, prefix: str | None) -> S3Store:
    config: S3Config = {"region": settings.s3_region}
    client_options: ClientConfig = {
        "connect_timeout": "10s",
        # A download streams through one response for as long as the client takes to read it.
        "timeout": "1h",
    }
    if settings.s3_endpoint_url:
        endpoint = urlparse(settings.s3_endpoint_url)
        if endpoint.scheme not in {"http", "https"} or not endpoint.hostname:
            raise ValueError(f"invalid S3 endpoint URL: {settings.s3_endpoint_url!r}")
        if endpoint.scheme == "http":
            if not (settings.s3_allow_http or _is_loopback(endpoint.hostname)):
                raise ValueError(
                    "plain-HTTP S3 endpoints are only allowed on loopback "
                    "(set SHORTLIST_S3_ALLOW_HTTP=true to override)"
                )
            client_options["allow_http"] = True
        config["endpoint"] = settings.s3_endpoint_url.rstrip("/")
        config["virtual_hosted_style_request"] = False
    if settings.s3_access_key_id:
        config["access_key_id"] = settings.s3_access_key_id
    if settings.s3_secret_access_key is not None:
        config["secret_access_key"] = settings.s3_secret_access_key.get_secret_value()
    return S3Store(bucket, prefix=prefix, config=config, client_options=client_options)
