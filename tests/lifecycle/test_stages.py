"""The stage state machine (plain Python, no database): property-based."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.lifecycle.domain.stages import ALLOWED, ENTRY, ORDER, Stage, Transition, tally, transition

stages = st.sampled_from(ORDER)
maybe_stage = st.none() | stages
# The stages that this slice's events (user.invited, user.registered, user.logged_in) imply.
slice_stages = st.sampled_from([Stage.INVITED, Stage.REGISTERED, Stage.ACTIVE])
# Dormancy is the one order-dependent stage (only an active user becomes dormant).
non_dormant = st.sampled_from([s for s in ORDER if s is not Stage.DORMANT])


def replay(targets: list[Stage], start: Stage | None = None) -> tuple[Stage | None, list[Transition]]:
    current, moves = start, []
    for target in targets:
        move = transition(current, target)
        if move:
            moves.append(move)
            current = move.to_stage
    return current, moves


class TestTransition:
    @given(maybe_stage, stages)
    def test_moves_only_forward_along_allowed_edges(self, current: Stage | None, target: Stage) -> None:
        move = transition(current, target)
        if move is None:
            return
        assert move == Transition(current, target)
        if current is None:
            assert target in ENTRY
        else:
            assert target in ALLOWED[current]
            assert target.rank > current.rank

    @given(stages)
    def test_repeating_the_current_stage_changes_nothing(self, stage: Stage) -> None:
        assert transition(stage, stage) is None

    @given(stages, stages)
    def test_moving_backwards_changes_nothing(self, current: Stage, target: Stage) -> None:
        if target.rank <= current.rank:
            assert transition(current, target) is None

    def test_every_allowed_edge_is_forward(self) -> None:
        for current, targets in ALLOWED.items():
            assert all(t.rank > current.rank for t in targets), current

    def test_the_slice_moves_exist(self) -> None:
        assert transition(None, Stage.INVITED) == Transition(None, Stage.INVITED)
        assert transition(Stage.INVITED, Stage.REGISTERED) == Transition(Stage.INVITED, Stage.REGISTERED)
        assert transition(Stage.REGISTERED, Stage.ACTIVE) == Transition(Stage.REGISTERED, Stage.ACTIVE)
        assert transition(None, Stage.REGISTERED) == Transition(None, Stage.REGISTERED)
        assert transition(None, Stage.ACTIVE) == Transition(None, Stage.ACTIVE)

    def test_exited_is_final(self) -> None:
        assert all(transition(Stage.EXITED, t) is None for t in ORDER)

    def test_only_an_active_user_becomes_dormant(self) -> None:
        assert transition(None, Stage.DORMANT) is None
        assert [s for s in ORDER if transition(s, Stage.DORMANT)] == [Stage.ACTIVE]

    @given(maybe_stage, non_dormant)
    def test_any_later_stage_but_dormant_may_follow(self, current: Stage | None, target: Stage) -> None:
        later = current is None or target.rank > current.rank
        assert (transition(current, target) is not None) == later


class TestReplayEvents:
    @given(st.lists(stages, max_size=30), maybe_stage)
    def test_stage_rank_only_increases(self, targets: list[Stage], start: Stage | None) -> None:
        _, moves = replay(targets, start)
        ranks = [m.to_stage.rank for m in moves]
        assert ranks == sorted(set(ranks))
        assert len(moves) <= len(ORDER)
        for before, after in zip(moves, moves[1:], strict=False):
            assert after.from_stage == before.to_stage

    @given(st.lists(slice_stages, min_size=1, max_size=20), st.randoms())
    def test_any_order_of_the_slice_events_ends_in_the_latest_stage(self, targets: list[Stage], rnd) -> None:
        shuffled = list(targets)
        rnd.shuffle(shuffled)
        final, _ = replay(shuffled)
        assert final == max(targets, key=lambda s: s.rank)

    @given(st.lists(non_dormant, min_size=1, max_size=20), st.randoms())
    def test_without_dormancy_any_order_ends_in_the_latest_stage(self, targets: list[Stage], rnd) -> None:
        shuffled = list(targets)
        rnd.shuffle(shuffled)
        assert replay(shuffled)[0] == replay(targets)[0] == max(targets, key=lambda s: s.rank)

    @given(st.lists(non_dormant, max_size=20))
    def test_redelivering_every_event_changes_nothing(self, targets: list[Stage]) -> None:
        final, _ = replay(targets)
        again, moves = replay(targets, final)
        assert again == final
        assert moves == []

    @given(st.lists(stages, max_size=20))
    def test_each_event_repeated_at_once_is_harmless(self, targets: list[Stage]) -> None:
        doubled = [t for target in targets for t in (target, target)]
        assert replay(doubled) == replay(targets)


class TestTally:
    @given(st.dictionaries(stages.map(str), st.integers(min_value=0, max_value=10_000)))
    def test_every_stage_is_listed_in_order(self, counts: dict[str, int]) -> None:
        result = tally(counts)
        assert list(result) == ORDER
        assert sum(result.values()) == sum(counts.values())
