from pydantic_settings import SettingsConfigDict

from shared.settings import BaseServiceSettings


class AuthzSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AUTHZ_", extra="ignore")
