"""Settings from the environment (prefix ``SHORTLIST_``), built once per process."""

from functools import lru_cache
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.identity import LOOPBACK_HOSTS

PLACEHOLDER_SECRET = "development-only-secret-change-me"  # noqa: S105 - refused outside development


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHORTLIST_", extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./var/shortlist.db"
    storage_url: str = "file://./var/blobs"
    # S3-compatible object storage, used when storage_url is s3://bucket/prefix.
    s3_endpoint_url: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_region: str = "us-east-1"
    s3_allow_http: bool = (
        False  # plain HTTP to a non-loopback endpoint (loopback is always allowed)
    )
    # Virus scanning of uploads: "none" (documents are clean at once) or "clamd://host:port".
    scanner_url: str = "none"
    # With a scanner on SQLite, the process looks this often for documents still pending a scan
    # (left by a crash, or whose scan failed) besides scanning each upload as it commits.
    scan_interval_seconds: float = Field(default=60.0, gt=0)
    scan_concurrency: int = Field(default=2, ge=1, le=32)
    # PostgreSQL: how long ended scan jobs (failed ones are the record of what gave up) stay in
    # the queue's table before the hourly pass deletes them.
    scan_jobs_keep_hours: int = Field(default=168, ge=0)
    # On PostgreSQL scans are procrastinate jobs: each API process runs a worker for them unless
    # this is off, and then `shortlist worker` processes must run them. (SQLite: always in-process.)
    jobs_in_process: bool = True
    # Text affinity is a background job once a round's seal lifts (infra/jobs/affinity.py): on
    # PostgreSQL a procrastinate job (run as the scans are), on SQLite a loop in the server
    # process that looks this often for rounds whose inputs changed. Until it has run,
    # automatic assignment compares titles, summaries, keywords and profiles only.
    affinity_interval_seconds: float = Field(default=60.0, gt=0)
    # Per-application quota on stored documents: every version that is not deleted counts.
    document_quota_bytes: int = Field(default=1024**3, ge=1)
    document_quota_count: int = Field(default=100, ge=1)
    # `shortlist storage sweep` spares blobs younger than this: their upload may still be
    # committing its row.
    storage_sweep_grace_seconds: int = Field(default=3600, ge=0)
    # Local storage writes uploads with O_DIRECT where the file system allows it (less CPU per
    # upload); off, they go through the page cache (as on file systems without it).
    storage_direct_io: bool = True
    public_url: str = "http://127.0.0.1:8000"
    # Webhooks: targets that resolve to private, loopback or link-local addresses are refused
    # unless this is on (development); pending deliveries are looked for this often besides
    # on each event, and this many are sent at once.
    webhook_allow_private: bool = False
    # Mail over SMTP: off while unset; smtp://host:port, smtp+starttls://user:pass@host:587 or
    # smtps://user:pass@host:465. Users without a locale of their own get default_locale's.
    smtp_url: SecretStr | None = None
    mail_from: str = "Shortlist <noreply@localhost>"
    default_locale: Literal["en", "ko"] = "en"
    webhook_interval_seconds: float = Field(default=5.0, gt=0)
    webhook_concurrency: int = Field(default=8, ge=1, le=64)
    # PostgreSQL: a webhook pass whose worker sent no heartbeat for this long (killed) is ended,
    # which frees the pass's lock; its deliveries, never recorded, are sent again (same
    # webhook-id). Workers send a heartbeat every third of it.
    webhook_stalled_seconds: float = Field(default=30.0, ge=1.0)
    secret_key: SecretStr = SecretStr(PLACEHOLDER_SECRET)

    # External OpenID Connect provider (optional); the built-in issuer may then be switched off.
    oidc_issuer: str | None = None
    audience: str = "urn:shortlist:api"
    oidc_roles_claim: str = "roles"
    oidc_role_map: dict[str, str] = Field(default_factory=dict)
    # The external issuer's JWKS: cached this long, refetched for an unknown kid at most this
    # often; discovery and JWKS requests time out after oidc_http_timeout seconds.
    oidc_jwks_ttl: float = Field(default=600.0, ge=0)
    oidc_jwks_min_refresh: float = Field(default=10.0, ge=0)
    oidc_http_timeout: float = Field(default=5.0, gt=0, le=60)
    builtin_issuer: bool = True
    access_token_ttl: int = Field(default=900, ge=60, le=3600)
    refresh_token_ttl: int = Field(default=14 * 24 * 3600, ge=300)
    # The public OAuth client that the API docs (Swagger UI) sign in with; `shortlist
    # bootstrap` registers it with the redirect URI {public_url}/docs/oauth2-redirect.
    swagger_client_id: str = "shortlist-swagger-ui"

    log_json: bool | None = None
    log_level: str = "INFO"
    # FastAPI's native OpenTelemetry (request spans, metrics and logs through the globally
    # configured providers, e.g. under opentelemetry-instrument). Off unless asked for: when on,
    # every request looks the providers up, configured or not.
    otel: bool = False
    docs_enabled: bool | None = None
    """Serve /docs, /redoc and /openapi.json; unset: on, except in production."""
    cors_origins: list[str] = Field(default_factory=list)
    db_pool_size: int = Field(default=10, ge=1)
    db_read_pool_size: int = Field(default=4, ge=0)
    """PostgreSQL: the asynchronous connections each process keeps for the hottest reads (0: none,
    they run synchronously on the event loop)."""
    actor_cache_seconds: float | None = Field(default=None, ge=0, le=60)
    """How long each process may trust what it read of a built-in token's user and revocation
    (0: read on every request). Unset: 30 on PostgreSQL, where every process listens for the
    changes made by the others (``NOTIFY``) and bypasses the cache while it cannot listen; 0 on
    SQLite, where processes cannot tell each other (a change made through another process
    would hold here only after N seconds). See ``identity.actors.ActorCache``."""
    application_cache_size: int = Field(default=4096, ge=0)
    """Answers of ``GET /api/v1/applications/{id}`` each process remembers (by application and
    caller), each given again only after one point read of the application's read stamp says
    nothing it shows has changed (``api.application_answers``); 0: off, every read reads it all."""
    redis_url: str | None = None
    rate_limit_writes_per_minute: int = Field(default=600, ge=0)
    rate_limit_token_per_minute: int = Field(default=120, ge=0)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Operations. /metrics answers loopback without auth; from elsewhere it needs this token as a
    # Bearer token, and is off (404) while it is unset.
    metrics_token: SecretStr | None = None
    # /readyz says the blob store is full when a local store's file system has less room left.
    storage_min_free_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    # Traces (request, database, storage, scanner and job spans) go over OTLP/HTTP to this base
    # URL (e.g. http://collector:4318; the spans are posted to {url}/v1/traces); unset: none.
    otlp_endpoint: str | None = None
    otel_service_name: str = "shortlist"
    sqlite_busy_timeout_ms: int = Field(default=15000, ge=0)

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Self:
        if (
            self.environment == "production"
            and self.secret_key.get_secret_value() == PLACEHOLDER_SECRET
        ):
            raise ValueError("SHORTLIST_SECRET_KEY must be set outside development")
        if self.oidc_issuer is not None:
            parts = urlsplit(self.oidc_issuer)
            loopback = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
            if not (parts.scheme == "https" or loopback) or parts.query or parts.fragment:
                raise ValueError(
                    "SHORTLIST_OIDC_ISSUER must be an https URL (http only on a loopback host)"
                )
        return self

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @property
    def serves_docs(self) -> bool:
        """In production the API's docs and schema are off unless enabled."""
        if self.docs_enabled is not None:
            return self.docs_enabled
        return self.environment != "production"

    @property
    def json_logs(self) -> bool:
        return self.log_json if self.log_json is not None else not self.is_development

    @property
    def public_url_is_loopback(self) -> bool:
        return urlsplit(self.public_url).hostname in LOOPBACK_HOSTS

    @property
    def issuer(self) -> str:
        """The built-in authorization server's issuer identifier."""
        return self.public_url.rstrip("/")


LISTENED_ACTOR_CACHE_SECONDS = 30.0
"""The actor cache's default on PostgreSQL: a backstop only, since each change is heard."""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment once."""
    return Settings()
