"""A user's stage on the platform, as a plain state machine.

    invited → registered → verified → active → dormant → exited

Stages only move forward, along ALLOWED: a later stage implies the earlier ones happened
(someone who logs in has registered), so any later stage may follow, except that only an
active user can become dormant. A user first seen by an event starts at its stage (never
dormant). An event that would move a user backwards or to the stage they are in changes
nothing, so redelivered events and events arriving out of order are harmless: without
dormancy, a user ends in the latest stage any of the events implies, whatever their order.

Dormant → active (a dormant user returning) moves backwards in this order; when dormancy is
implemented it needs its own edge, guarded by event time so that a stale login cannot
reactivate anyone.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Stage(StrEnum):
    INVITED = "invited"
    REGISTERED = "registered"
    VERIFIED = "verified"
    ACTIVE = "active"
    DORMANT = "dormant"
    EXITED = "exited"

    @property
    def rank(self) -> int:
        return ORDER.index(self)


ORDER: list[Stage] = list(Stage)


def _allowed_from(stage: Stage) -> frozenset[Stage]:
    later = ORDER[ORDER.index(stage) + 1:]
    return frozenset(t for t in later if t is not Stage.DORMANT or stage is Stage.ACTIVE)


ALLOWED: dict[Stage, frozenset[Stage]] = {stage: _allowed_from(stage) for stage in ORDER}

# Where a user first seen by an event starts: the event's stage, when it is one of these.
ENTRY: frozenset[Stage] = frozenset(ORDER) - {Stage.DORMANT}


@dataclass(frozen=True)
class Transition:
    from_stage: Stage | None
    to_stage: Stage


def transition(current: Stage | None, target: Stage) -> Transition | None:
    """The move an event implying `target` makes from `current` (None: user not seen yet),
    or None when the event must change nothing."""
    if current is None:
        return Transition(None, target) if target in ENTRY else None
    if target in ALLOWED[current]:
        return Transition(current, target)
    return None


def tally(counts: dict[str, int]) -> dict[Stage, int]:
    """Counts for every stage in order, zero where no one is in it."""
    return {stage: counts.get(stage.value, 0) for stage in ORDER}
