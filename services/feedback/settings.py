from pydantic_settings import SettingsConfigDict

from shared.settings import BaseServiceSettings


class FeedbackSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FEEDBACK_", extra="ignore")
