"""Normalising mobiles (phonenumbers) and emails (email-validator)."""
from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email


class InvalidContact(ValueError):
    pass


def normalize_mobile(raw: str, region: str = "CN") -> str:
    """E.164 form of a valid mobile number, or InvalidContact."""
    try:
        number = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidContact("not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidContact("not a valid phone number")
    if phonenumbers.number_type(number) not in (phonenumbers.PhoneNumberType.MOBILE,
                                                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise InvalidContact("not a mobile number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> str:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidContact(str(exc)) from exc


def looks_like_email(login: str) -> bool:
    return "@" in login


def mask(destination: str) -> str:
    """Show enough of a mobile or email for a person to recognise it, no more."""
    if "@" in destination:
        local, _, domain = destination.partition("@")
        return f"{local[:1]}***@{domain}"
    return f"{destination[:-8]}****{destination[-4:]}" if len(destination) > 8 else "****"
