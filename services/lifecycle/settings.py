from pydantic_settings import SettingsConfigDict

from shared.settings import BaseServiceSettings


class LifecycleSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LIFECYCLE_", extra="ignore")
