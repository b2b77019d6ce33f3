"""Weak ETags from the profile's version, and If-Match against them.

We issue weak tags (W/"<version>"), so If-Match compares weakly: W/"3" and "3" both match
version 3. RFC 9110 asks for strong comparison in If-Match, under which a weak tag could never
match; the version is exact, so the weak comparison loses nothing here."""
from __future__ import annotations


def etag(version: int) -> str:
    return f'W/"{version}"'


def if_match_allows(header: str | None, version: int) -> bool:
    """No header: allowed. Otherwise one of its tags must be `*` or name `version`."""
    if header is None:
        return True
    for tag in header.split(","):
        tag = tag.strip()
        if tag == "*":
            return True
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag == f'"{version}"':
            return True
    return False
