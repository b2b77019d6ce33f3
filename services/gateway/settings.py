from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import BaseServiceSettings


class GatewaySettings(BaseServiceSettings):
    """Upstream URLs are used in the distributed topology; embedded mode mounts the apps instead."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    profile_url: str = "http://127.0.0.1:8003"
    activity_url: str = "http://127.0.0.1:8004"
    feedback_url: str = "http://127.0.0.1:8005"
    lifecycle_url: str = "http://127.0.0.1:8006"
    upstream_timeout_seconds: float = 30.0
    max_connections: int = 200
    # How long an ended session is remembered: the access-token lifetime, plus clock skew.
    revocation_keep_seconds: int = 960

    def upstream(self, service: str) -> str:
        return str(getattr(self, f"{service}_url"))

    @model_validator(mode="after")
    def _no_dev_defaults_in_production(self) -> "GatewaySettings":
        return self  # the gateway keeps no data: it needs no DATABASE_URL anywhere
