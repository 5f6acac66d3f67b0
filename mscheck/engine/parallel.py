"""The vectorised search on two processes: states partitioned by a hash between them.

From the first level of at least ``min_level`` states, :func:`mscheck.engine.vector.vector_search`
forks a second process (Linux only: the child inherits the tables, the levels and the compiled
model; nothing is pickled but the states that cross). A state belongs to the process given by
one bit of a hash of it (:func:`owner`); each process keeps the visited states it owns
(rebuilt from the levels at the fork), states of one word in quotient slots that leave out
that bit. A level goes like this:

1. the main process expands the first half of the level, the child the second half (in
   chunks of ``chunk`` states); each successor's *key* is its place among the successors of
   the process's half (the child's marked by ``CHILD``), so keys order the successors as the
   one-process search discovers them. Within a chunk only the first occurrence of each
   successor is kept;
2. the processes swap the successors the other one owns (each sends from a thread while it
   receives, so two large messages never wait on each other; the arrays cross as raw bytes,
   :func:`_send`);
3. each process keeps, of the successors it owns (the main process's first, in key order),
   the first occurrence of each (the one-process search's discoverer) and adds them to its
   visited states. The ones not there before are its new states, in key order; it also
   checks the invariants and ``reachable`` properties on them;
4. the child sends the main process its successor counts, step errors and deadlocks (per
   state of its half), its new states with their keys and its checks; the main process merges
   both processes' new states by key into the next level, in the one-process search's order,
   sends the child the second half of it, and decides with
   :func:`mscheck.engine.vector.settle` where the level stops (an event, a limit) exactly as
   that search decides it.

So the results are those of the one-process search, figure for figure: states, transitions,
depth, the violations, the state picked for each, and the traces. The main process keeps
every level (for traces).

Memory: each process holds the successors of its half of a level at once (after the
first-occurrence filter of each chunk), besides its visited states; the one-process search
holds one chunk's. They stay in the chunks they were found in (sent together, as raw
bytes), settled one at a time and each freed once settled: no copy of a whole half-level's
successors is ever made. (The main process could add its own successors as it finds them,
theirs being the least keys, and hold none: that saved 2 % of the two peaks for 10 % more
time on the six-phase philosophers, N = 12.) The main process's visited set grows from the
levels it keeps, so its old and new tables never exist together; the child's grows from its
old table.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import resource
import signal
import sys
import threading
import traceback

import numpy as np

from mscheck.engine.search import _rss

CHILD = 1 << 48  # added to the keys of the successors the child process found


def available() -> bool:
    """Whether the search can fork a second process here (Linux, two CPUs or more)."""
    return sys.platform.startswith("linux") and (os.cpu_count() or 1) > 1


def owner(words: list[np.ndarray], bits: int) -> np.ndarray:
    """The process (0 or 1) each state of ``bits`` bits belongs to: for states of one word,
    the bit their quotient slots would hold first (so a process's visited set need not)."""
    from mscheck.engine.vector import PART_SALT, _hash, quotient_part

    if len(words) == 1:
        return quotient_part(words[0], bits)
    return _hash(words, 1, PART_SALT)


def _merge_order(a: np.ndarray, b: np.ndarray):
    """For two ascending arrays of distinct keys, the places of their items in the merged
    order. (A stable sort of the two runs one after the other merges them in linear time:
    numpy's stable sort of integers finds the runs.)"""
    n = len(a) + len(b)
    order = np.argsort(np.concatenate((a, b)), kind="stable")
    place = np.empty(n, dtype=np.int64)
    place[order] = np.arange(n, dtype=np.int64)
    return place[:len(a)], place[len(a):]


def _scatter(parts: list[tuple[list[np.ndarray], np.ndarray]], n: int, dtype) -> list:
    """Word arrays of ``n`` states, each part's states placed at its positions."""
    words = len(parts[0][0])
    out = [np.empty(n, dtype=dtype) for _ in range(words)]
    for ws, at in parts:
        for o, x in zip(out, ws):
            o[at] = x
    return out


def half(level: list[np.ndarray], me: int) -> list[np.ndarray]:
    """The first (``me`` = 0) or second half of a level."""
    h = (len(level[0]) + 1) // 2
    return [x[:h] if me == 0 else x[h:] for x in level]


class _Share:
    """What one process does: expand a half of each level, keep the states it owns."""

    def __init__(self, me: int, ctx, levels: list[list[np.ndarray]]):
        from mscheck.engine.vector import _Scratch, _Visited

        self.me = me
        self.ctx = ctx
        layout = ctx["layout"]
        self.scratch = _Scratch()
        self.new: list = []  # the new states (words, keys) of the level, as settled
        # the main process keeps every level (the search's list, which grows): its visited
        # set grows from them, never holding two tables at once; the child keeps none
        self.levels = levels if me == 0 else None
        mine = list(self._owned(levels))  # the visited states this process owns
        n, cap = sum(len(ws[0]) for ws in mine), 1 << 10
        while n > _Visited.MAX_LOAD * cap:
            cap *= 2
        self.visited = _Visited(layout, capacity=cap, part=me)  # made to hold them
        for ws in mine:
            self.visited.add(ws)
        del mine
        self.front = half(layout.load(levels[-1], 0, len(levels[-1][0])), me)

    def _owned(self, levels=None):
        """The visited states this process owns, a slice at a time: those of ``levels`` (by
        default the levels kept), then the new ones of the level being settled."""
        from mscheck.engine.vector import REHASH

        layout = self.ctx["layout"]
        for level in self.levels if levels is None else levels:
            for a in range(0, len(level[0]), REHASH):
                ws = layout.load(level, a, a + REHASH)
                mine = np.flatnonzero(owner(ws, layout.bits) == self.me)
                if len(mine):
                    yield [x[mine] for x in ws]
        for ws, _ in self.new:
            yield ws

    def expand(self):
        """Expand this process's half of the level: returns the successors it owns and
        those the other owns (first occurrences per chunk: lists of (words, places, base),
        a chunk each, in key order: a successor's key is its chunk's ``base`` plus its
        place), and per state of the half its successor count, whether a step fails,
        whether it is a deadlock."""
        from mscheck.engine.vector import _first_occurrence, deadlocked, successors

        ctx = self.ctx
        layout, W, chunk = ctx["layout"], ctx["layout"].words, ctx["chunk"]
        n = len(self.front[0])
        totals, faileds, deads = [], [], []
        parts: list[list] = [[], []]
        base = CHILD if self.me else 0  # the key of the next successor
        for a in range(0, n, chunk):
            states = [x[a:a + chunk] for x in self.front]
            total, moved, failed, succ = successors(ctx["vtables"], states, W)
            totals.append(total)
            faileds.append(failed)
            deads.append(deadlocked(ctx["model"], ctx["pm"], layout, states, moved,
                                    ctx["check_deadlock"]))
            m = len(succ[0])
            if not m:
                continue
            first = np.flatnonzero(_first_occurrence(succ, self.scratch))
            succ = [x[first] for x in succ]
            # a successor's key is ``base`` and its place among the chunk's successors
            # (held as 4 bytes, not 8: a chunk has fewer than 2**32 successors)
            at = first.astype(np.uint32)
            side = owner(succ, layout.bits) == 1
            for p, sel in ((1, np.flatnonzero(side)), (0, np.flatnonzero(~side))):
                if len(sel):
                    parts[p].append(([x[sel] for x in succ], at[sel], base))
            base += m
        cat = (lambda xs, t: np.concatenate(xs) if xs else np.empty(0, dtype=t))
        info = (cat(totals, np.int64), cat(faileds, bool), cat(deads, bool))
        return parts[self.me], parts[1 - self.me], info

    def _settle(self, chunks: list) -> None:
        """Add the states of ``chunks`` (as :meth:`expand` lists them, in key order) to
        the visited ones, one chunk at a time, the list emptied as it is read; keep the new
        ones (and their keys) for :meth:`settle`."""
        chunks.reverse()  # popped from the end: in key order
        while chunks:
            words, at, base = chunks.pop()  # distinct states (:meth:`expand`)
            new = np.flatnonzero(self.visited.add(
                words, source=self._owned if self.levels is not None else None))
            if len(new):
                self.new.append(([x[new] for x in words], at[new].astype(np.int64) + base))

    def settle(self, kept: list, received: list):
        """The new states of this process: of the successors it owns (``kept`` and
        ``received``, as :meth:`expand` lists them), those not visited before, each at its
        first occurrence (least key), in key order; and, on them, the first state failing
        each invariant and whether each ``reachable`` property is witnessed.

        The chunks go into the visited states one at a time, in key order (the main
        process's successors before the child's): a state's first occurrence is then the
        one found new, and every later one is found visited. The lists are emptied as they
        are read, so each chunk's memory goes as soon as it is settled."""
        from mscheck.engine.vector import first_bad, witnessed

        for chunks in ((kept, received) if self.me == 0 else (received, kept)):
            self._settle(chunks)
        new, self.new = self.new, []
        W = self.ctx["layout"].words
        words = [np.concatenate([ws[w] for ws, _ in new]) if new
                 else np.empty(0, dtype=np.uint64) for w in range(W)]
        keys = np.concatenate([k for _, k in new]) if new else np.empty(0, dtype=np.int64)
        del new
        checks = None
        if len(keys):
            good = self.ctx["all_good"] is not None and self.ctx["all_good"](words)
            checks = ([None if good else first_bad(leaves, words)
                       for _, leaves in self.ctx["invariants"]],
                      [witnessed(d, words) for _, d in self.ctx["reach"]])
        return words, keys, checks


def _send(conn, obj) -> None:
    """Send ``obj`` with its numpy arrays' memory out of band: a pickle of the rest and
    their sizes first, then each array's bytes as they lie (no copy into the pickle)."""
    buffers: list[pickle.PickleBuffer] = []
    head = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    views = [b.raw() for b in buffers]
    conn.send((head, [v.nbytes for v in views]))
    for v in views:
        conn.send_bytes(v)


def _receive(conn):
    """What :func:`_send` sent: each array's bytes read straight into its own buffer."""
    head, sizes = conn.recv()
    buffers = []
    for n in sizes:
        b = bytearray(n)
        conn.recv_bytes_into(b)
        buffers.append(b)
    return pickle.loads(head, buffers=buffers)


def _swap(conn, outgoing):
    """Send ``outgoing`` and receive the other process's message at the same time."""
    failed: list[BaseException] = []

    def send():
        try:
            _send(conn, outgoing)
        except (OSError, ValueError) as exc:  # the other process is gone: recv says so
            failed.append(exc)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        got = _receive(conn)
    finally:
        sender.join()
    if isinstance(got, tuple) and got and isinstance(got[0], str) and got[0] == "error":
        raise RuntimeError(got[1])
    if failed:
        raise failed[0]
    return got


def _child(conn, ctx, levels):
    """The second process: expands its share of each level, then waits for the ranks of its
    new states in the next level (or is stopped)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process handles Ctrl-C
    try:
        share = _Share(1, ctx, levels)
        del levels
        while True:
            kept, other, info = share.expand()
            received = _swap(conn, other)
            del other
            words, keys, checks = share.settle(kept, received)
            del kept, received
            _send(conn, (info, words, keys, checks))
            msg = _receive(conn)
            if msg[0] == "stop":
                break
            share.front = msg[1]
    except BaseException:  # noqa: BLE001 - reported to the main process, which raises it
        try:
            _send(conn, ("error", traceback.format_exc()))
        except (OSError, ValueError):
            pass
    finally:
        conn.close()
        os._exit(0)


class Pair:
    """The main process's side: its own share, and the child process. The child starts on
    the current level at once."""

    def __init__(self, ctx, levels: list[list[np.ndarray]]):
        mp = multiprocessing.get_context("fork")
        self.conn, theirs = mp.Pipe()
        self.proc = mp.Process(target=_child, args=(theirs, ctx, levels), daemon=True)
        self.proc.start()
        theirs.close()
        self.ctx = ctx
        self.share = _Share(0, ctx, levels)
        self.closed = False

    def _recv(self):
        got = _receive(self.conn)
        if isinstance(got[0], str) and got[0] == "error":
            raise RuntimeError(got[1])
        return got

    def level(self):
        """Expand the current level on both processes. Returns, in the level's order, per
        state: successor count, step failure, deadlock; the new states in the order of
        discovery (words, and each one's place among the level's successors); and the
        checks of the new states: per invariant the index of its first failing state (or
        None), per ``reachable`` property whether it is witnessed.

        The child is sent its half of the next level at once, and starts on it while this
        process settles the current one (if this one stops the search instead, :meth:`close`
        kills the child)."""
        kept, other, (t0, f0, d0) = self.share.expand()
        received = _swap(self.conn, other)
        del other
        w0, k0, c0 = self.share.settle(kept, received)
        del kept, received
        (t1, f1, d1), w1, k1, c1 = self._recv()
        p0, p1 = _merge_order(k0, k1)
        n = len(p0) + len(p1)
        words = _scatter([(w0, p0), (w1, p1)], n, np.uint64)
        if n:
            _send(self.conn, ("go", half(words, 1)))
        self.share.front = half(words, 0)
        place = np.empty(n, dtype=np.int64)
        place[p0] = k0
        place[p1] = k1
        child = place >= CHILD  # found by the child: after all the main process found
        place[child] += int(t0.sum()) - CHILD
        total, failed, dead = (np.concatenate(x) for x in ((t0, t1), (f0, f1), (d0, d1)))
        return total, failed, dead, words, place, self._checks((c0, p0), (c1, p1))

    def _checks(self, *parts):
        """The checks of both processes, with indices into the merged level."""
        invs = [None] * len(self.ctx["invariants"])
        seen = [False] * len(self.ctx["reach"])
        for checks, places in parts:
            if checks is None:
                continue
            for i, bad in enumerate(checks[0]):
                if bad is not None:
                    at = int(places[bad])
                    invs[i] = at if invs[i] is None else min(invs[i], at)
            for j, w in enumerate(checks[1]):
                seen[j] = seen[j] or w
        return invs, seen

    def memory(self) -> int:
        """The resident memory of both processes, in bytes."""
        try:
            with open(f"/proc/{self.proc.pid}/statm") as fh:
                child = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            child = 0
        return _rss() + child

    def close(self) -> int:
        """Stop the child (it may be in the middle of a level: it is killed); returns its
        peak resident memory in bytes (0 if unknown)."""
        if self.closed:
            return 0
        self.closed = True
        self.proc.kill()
        self.proc.join()
        self.conn.close()
        return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
