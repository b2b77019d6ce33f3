from pydantic_settings import SettingsConfigDict

from shared.settings import BaseServiceSettings


class ActivitySettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ACTIVITY_", extra="ignore")
