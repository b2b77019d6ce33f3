from pydantic_settings import SettingsConfigDict

from shared.settings import BaseServiceSettings


class IdentitySettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="IDENTITY_", extra="ignore")

    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    verification_code_ttl_seconds: int = 300
    verification_code_max_attempts: int = 5
    verification_resend_seconds: int = 30
    invitation_ttl_days: int = 30
    login_max_failures: int = 5
    lockout_seconds: int = 900
    phone_region: str = "CN"
    roster_max_bytes: int = 5 * 1024 * 1024
    roster_max_rows: int = 20_000
    # The client app's registration page, named in invitations; unset: invitations give the code alone.
    registration_url: str | None = None
