"""Settings from the environment (prefix ``SHORTLIST_``), built once per process."""

from functools import lru_cache
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "development-only-secret-change-me"  # noqa: S105 - refused outside development


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHORTLIST_", extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./var/shortlist.db"
    storage_url: str = "file://./var/blobs"
    public_url: str = "http://127.0.0.1:8000"
    secret_key: SecretStr = SecretStr(PLACEHOLDER_SECRET)

    # External OpenID Connect provider (optional); the built-in issuer may then be switched off.
    oidc_issuer: str | None = None
    audience: str = "urn:shortlist:api"
    oidc_roles_claim: str = "roles"
    oidc_role_map: dict[str, str] = Field(default_factory=dict)
    builtin_issuer: bool = True
    access_token_ttl: int = Field(default=900, ge=60, le=3600)
    refresh_token_ttl: int = Field(default=14 * 24 * 3600, ge=300)

    log_json: bool | None = None
    log_level: str = "INFO"
    docs_enabled: bool = True
    cors_origins: list[str] = Field(default_factory=list)
    db_pool_size: int = Field(default=10, ge=1)
    redis_url: str | None = None
    rate_limit_writes_per_minute: int = Field(default=600, ge=0)
    rate_limit_token_per_minute: int = Field(default=120, ge=0)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    sqlite_busy_timeout_ms: int = Field(default=15000, ge=0)

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Self:
        if (
            self.environment == "production"
            and self.secret_key.get_secret_value() == PLACEHOLDER_SECRET
        ):
            raise ValueError("SHORTLIST_SECRET_KEY must be set outside development")
        return self

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @property
    def json_logs(self) -> bool:
        return self.log_json if self.log_json is not None else not self.is_development

    @property
    def issuer(self) -> str:
        """The built-in authorization server's issuer identifier."""
        return self.public_url.rstrip("/")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment once."""
    return Settings()
