"""Company names: one company per name, whatever its case or spacing."""
from __future__ import annotations


def company_name(value: str) -> str:
    """The name as it is kept: trimmed, each run of white space (full-width spaces too) one space.
    Names are compared ignoring case (the database keeps lower(name) unique)."""
    return " ".join(value.split())
