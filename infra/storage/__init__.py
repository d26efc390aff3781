"""Blob storage adapters behind ``submissions.blobs.BlobStore``: a local directory (the embedded
default, ``local``) and S3-compatible object storage (``s3``), both read, listed and deleted
through obstore (``base``). ``SHORTLIST_STORAGE_URL`` picks one (``make_blob_store``).
"""

from pathlib import Path
from urllib.parse import urlparse

from infra.settings import Settings
from infra.storage.local import LocalBlobStore
from infra.storage.s3 import S3BlobStore, make_s3_store
from submissions.blobs import BlobStore


def make_blob_store(settings: Settings) -> BlobStore:
    """The blob store ``SHORTLIST_STORAGE_URL`` names: ``file://...`` or ``s3://bucket/prefix``."""
    url = settings.storage_url
    parsed = urlparse(url)
    if parsed.scheme == "file":
        # file:///abs/path and file://./relative/path are both accepted.
        path = (parsed.netloc + parsed.path) if parsed.netloc else parsed.path
        if not path:
            raise ValueError(f"storage URL names no directory: {url!r}")
        return LocalBlobStore(Path(path), direct_io=settings.storage_direct_io)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ValueError(f"storage URL names no bucket: {url!r}")
        prefix = parsed.path.strip("/") or None
        return S3BlobStore(make_s3_store(settings, parsed.netloc, prefix))
    raise ValueError(f"unsupported storage URL scheme: {parsed.scheme!r}")
