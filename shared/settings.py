"""Settings shared by every service; each service subclasses with its own env prefix.

A variable with the service's prefix (IDENTITY_DATABASE_URL) wins over the plain one
(DATABASE_URL), so one environment can configure a whole deployment or one service.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/esop"


class BaseServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    environment: str = "development"
    database_url: str = DEFAULT_DATABASE_URL
    db_pool_size: int = 5
    kafka_bootstrap_servers: str | None = None
    kafka_max_poll_interval_ms: int = 300_000
    # The origin clients use (the gateway); the token issuer and discovery document follow it.
    public_url: str = "http://localhost:8000"
    jwt_issuer: str = ""  # default: {public_url}/api/v1/identity
    jwt_audience: str = "esop"
    # Request bodies: JSON, and multipart uploads (the roster's own limit, 5 MB, is below this one).
    max_body_bytes: int = 1024 * 1024
    max_upload_bytes: int = 6 * 1024 * 1024
    # Where the other services are reached in the distributed topology.
    identity_url: str = "http://127.0.0.1:8001"
    authz_url: str = "http://127.0.0.1:8002"
    outbox_poll_seconds: float = 1.0
    consumer_max_attempts: int = 5
    message_sink: Path = Path(".esop/messages.jsonl")
    log_level: str = "INFO"

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource) -> tuple[PydanticBaseSettingsSource, ...]:
        plain_env = EnvSettingsSource(settings_cls, env_prefix="")
        return init_settings, env_settings, plain_env, dotenv_settings, file_secret_settings

    @model_validator(mode="after")
    def _issuer_follows_the_public_url(self) -> "BaseServiceSettings":
        if not self.jwt_issuer:
            self.jwt_issuer = f"{self.public_url.rstrip('/')}/api/v1/identity"
        return self

    @model_validator(mode="after")
    def _no_dev_defaults_in_production(self) -> "BaseServiceSettings":
        if self.environment != "development" and self.database_url == DEFAULT_DATABASE_URL:
            raise ValueError("DATABASE_URL must be set explicitly outside development")
        return self
