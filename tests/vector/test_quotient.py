"""Quotient slots of the visited set: a state of one word kept as its home slot plus the rest
of its bits (``_Visited``). The set must stay exact whatever the slots hold: it is compared
with a Python set, through growth (from a listed source, and by moving its own slots), with
repeated states in a batch, and when clustered hashes crowd the slots."""

from __future__ import annotations

import numpy as np
import pytest

from mscheck.engine.vector import QUOTIENT_LOW_SLOTS, _Layout, _Visited, quotient_part


def _random_states(bits: int, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # few distinct values among many draws: batches meet states already in the set
    pool = rng.integers(0, 1 << min(bits, 62), size=n // 2, dtype=np.uint64)
    pool |= np.uint64(1 << (bits - 1))  # the top bit is used
    return pool[rng.integers(0, len(pool), size=n)]


@pytest.mark.parametrize("bits,low", [(32, 0), (40, 0), (46, 8), (52, 16)])
@pytest.mark.parametrize("from_source", [False, True])
def test_quotient_set_is_exact_through_growth(bits, low, from_source):
    layout = _Layout(bits)
    visited, seen, listed = _Visited(layout, capacity=1 << 12), set(), []
    states = _random_states(bits, 60_000, bits)
    for a in range(0, len(states), 5_000):
        batch = states[a:a + 5_000]
        _, first = np.unique(batch, return_index=True)
        distinct = batch[np.sort(first)]
        source = (lambda: iter([[np.array(listed, dtype=np.uint64)]])) if from_source else None
        new = visited.add([distinct], source=source).tolist()
        want = [int(s) not in seen for s in distinct.tolist()]
        assert new == want
        for s, fresh in zip(distinct.tolist(), new):
            if fresh:
                seen.add(s)
                listed.append(s)
        assert len(visited) == len(seen)
    assert visited.cap == 1 << 16  # 30,000 states at a load of at most 0.7
    assert visited.quotient and visited.low == low
    used, held = visited._entries(0, visited.cap)
    assert len(used) == len(seen)
    assert set(held[0].tolist()) == seen  # the slots give back the states


def test_repeats_in_a_batch_count_the_first():
    layout = _Layout(40)
    visited = _Visited(layout, capacity=1 << 16)
    assert visited.quotient
    first = visited.add([np.array([5, 9, 5, 7, 9, 5], dtype=np.uint64)], distinct=False)
    assert first.tolist() == [True, True, False, True, False, False]
    again = visited.add([np.array([7, 11, 11, 5], dtype=np.uint64)], distinct=False)
    assert again.tolist() == [False, True, False, False]
    assert len(visited) == 4


def _same_home(visited: _Visited, count: int) -> np.ndarray:
    """``count`` states of ``visited``'s width that all hash to slot 12345."""
    bits, r = visited.bits, visited.r
    inv = pow(int(visited.mul), -1, 1 << bits)
    return np.array([(((12345 << r) | j) * inv) % (1 << bits) for j in range(count)],
                    dtype=np.uint64)


@pytest.mark.parametrize("from_source", [False, True])
def test_crowded_slots_fall_back_to_whole_states(from_source):
    layout = _Layout(50)
    visited = _Visited(layout, capacity=1 << 20)
    assert visited.quotient and visited.low == 8
    crowd = _same_home(visited, 2_000)  # probes far past the 1,023 a slot can say
    others = _random_states(50, 20_000, 7)
    _, first = np.unique(others, return_index=True)
    others = others[np.sort(first)]
    others = others[~np.isin(others, crowd)]
    assert visited.add([others]).all()
    source = (lambda: iter([[others]])) if from_source else None
    new = visited.add([crowd], source=source)
    assert new.all() and not visited.quotient and visited.cap == 1 << 20
    assert len(visited) == len(others) + len(crowd)
    again = np.concatenate([crowd[::7], others[::5]])
    assert not visited.add([again]).any()  # every one is there, exactly once


def test_large_tables_keep_whole_states_when_the_rest_needs_two_arrays():
    layout = _Layout(60)
    assert _Visited(layout, capacity=QUOTIENT_LOW_SLOTS).quotient
    assert not _Visited(layout, capacity=2 * QUOTIENT_LOW_SLOTS).quotient
    # with 24 bits of rest or fewer, one uint32 a slot at any size
    assert _Visited(_Layout(44), capacity=2 * QUOTIENT_LOW_SLOTS).low == 0
    # a numbered set (for the liveness graph) keeps whole states
    assert not _Visited(_Layout(40), capacity=1 << 16, numbered=True).quotient


def test_states_alike_but_in_their_low_bits_are_told_apart():
    # same home slot and same top bits: only the separate low bits (uint8) differ
    layout = _Layout(50)
    visited = _Visited(layout, capacity=1 << 20)
    assert visited.low == 8
    states = _same_home(visited, 6)
    for s in states:  # one batch each: each probe meets the ones before it
        assert visited.add([np.array([s], dtype=np.uint64)]).tolist() == [True]
    assert not visited.add([states]).any()
    assert len(visited) == 6


@pytest.mark.parametrize("bits", [33, 40, 48])
@pytest.mark.parametrize("part", [0, 1])
def test_a_set_of_one_part_leaves_out_its_bit_and_stays_exact(bits, part):
    # the states of one part (the top bit of the quotient map, as two processes split them)
    # are held in slots of one bit less: a 33-bit state fits a uint32 slot of 2**10 slots
    layout = _Layout(bits)
    states = _random_states(bits, 40_000, bits + part)
    states = states[quotient_part(states, bits) == part]
    whole = _Visited(layout, capacity=1 << 10)
    visited, seen = _Visited(layout, capacity=1 << 10, part=part), set()
    assert visited.quotient and visited.r == whole.r - 1
    for a in range(0, len(states), 3_000):
        batch = states[a:a + 3_000]
        _, first = np.unique(batch, return_index=True)
        distinct = batch[np.sort(first)]
        new = visited.add([distinct]).tolist()
        assert new == [int(s) not in seen for s in distinct.tolist()]
        seen.update(s for s, fresh in zip(distinct.tolist(), new) if fresh)
    assert len(visited) == len(seen) and visited.quotient
    used, held = visited._entries(0, visited.cap)
    assert set(held[0].tolist()) == seen  # the slots and the part give back the states


def test_the_parts_split_the_states_evenly():
    states = np.arange(1 << 16, dtype=np.uint64) * np.uint64(12_345)
    ones = int(quotient_part(states, 40).sum())
    assert 0.45 < ones / len(states) < 0.55
