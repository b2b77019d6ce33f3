from pydantic_settings import SettingsConfigDict

from shared.settings import BaseServiceSettings


class ProfileSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PROFILE_", extra="ignore")
