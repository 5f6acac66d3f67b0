"""The packed engine: states as Python integers, steps as table lookups.

Every slot of the state (a variable of a service instance, a shared variable, a channel's
contents) has a finite list of values; a state packs each slot's value index into a bit
field, so a state is one integer. A buffered channel's list holds only the messages that can
ever enter it when they are known before the search (its initial contents and sends whose
payload is a value of its own in every instance: a token channel takes one bit).

Each service instance's steps read and write a few slots only. For every combination of the
values of those slots the successors are computed once, with the scalar semantics of
:mod:`mscheck.engine.compile`, and stored as a table: ``table[state & read_mask]`` is the
tuple of XOR deltas, one per successor (``successor = state ^ delta``). Exploring a state is
then one mask and one dictionary lookup per service instance. The slots a step reads are
found from the IR; the tables are built on states whose other slots hold a value that raises
when touched, so a step that reads more than was found stops the packed engine (the scalar
engine then runs) instead of computing a wrong table. Fault steps (the network's faults on a
channel slot, the crash or restart of a crashable instance) are tables of their own, after
the services' steps as the scalar engine lists them; every step of a crashable instance also
reads its ``up`` slot, and a send on a lossy sync channel the count of faults.

Invariants are split into conjuncts (``and``, ``forall`` over constant sets); a conjunct that
reads few slots becomes a set of good keys. A conjunct that reads more is split further by its
boolean structure (``or``, ``=>``, ``not``, ``exists`` ...) into parts that read few slots,
each tabulated, when no part can raise a domain error; otherwise it is evaluated once per key
met. Search is breadth-first, level by level, so the
first violation is found at the smallest depth; traces are rebuilt with the scalar engine.
"""

from __future__ import annotations

import math
import time
from array import array
from itertools import product
from math import prod
from typing import Callable

from mscheck.engine.model import StepError, Violation
from mscheck.engine.search import (CHECK_EVERY, Limits, SearchResult, TraceStep, _peak, _rss,
                                   limit_reached, unreachable)
from mscheck.ir import nodes as N
from mscheck.ir import types as T
from mscheck.ir.evaluate import EvalError, MsgVal, _sort_key, type_values
from mscheck.ir.walk import node_fields, walk
from dataclasses import dataclass, replace

__all__ = ["PackedModel", "NotPackable", "packed_search"]

MAX_TABLE = 1 << 16  # key space of a joined transition table
# an instance's steps also key tables apart when their joined key space passes SPLIT_MIN and
# is SPLIT_GAIN times the parts' together: far fewer entries to compute, a lookup more a state
SPLIT_MIN = 1 << 12
SPLIT_GAIN = 4
EAGER_LEAF = 1 << 12  # a property leaf with at most this many keys is tabulated at once
MAX_DOMAIN = 1 << 14  # values of one slot
MAX_PARTS = 1 << 8  # tabulated parts of one property leaf split by its boolean structure
SMALL_LEVEL = 128  # levels below this size run faster here than in the vector engine
SMALL_STATES = 1 << 16  # (bench/vector.py) while the Python set of visited states stays small


class NotPackable(Exception):
    """Why the packed engine cannot run this spec (the scalar engine will)."""


class _PoisonRead(Exception):
    pass


class _Poison:
    """Stands for a slot a table does not cover: any use of it raises."""

    def _fail(self, *args, **kwargs):
        raise _PoisonRead()

    def __getattr__(self, name):
        if name.startswith("__"):  # introspection (doctest, inspect) is not a use
            raise AttributeError(name)
        raise _PoisonRead()

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __hash__ = __bool__ = _fail
    __len__ = __iter__ = __contains__ = __add__ = __radd__ = __sub__ = __rsub__ = _fail
    __or__ = __ror__ = __and__ = __rand__ = __getitem__ = _fail
    __mul__ = __rmul__ = __neg__ = __index__ = __int__ = _fail


POISON = _Poison()
ERROR = ("error",)  # a table entry where the step raises StepError


def _key(v):
    return _sort_key(v) if not isinstance(v, int) else ("", v)


def _at_most(n: int, more: int = 0) -> None:
    """Raise EvalError should ``more`` values and ``n`` others be more than a slot may
    hold: checked before they are made (a product of a few ranges is soon billions)."""
    if more + n > MAX_DOMAIN:
        raise EvalError("too many values")


def _values(t: T.Type, messages) -> list:
    """The values of a slot of type ``t``, in a fixed order; EvalError (before any are
    made) when they are more than ``MAX_DOMAIN``."""
    if isinstance(t, T.MsgT):
        out = []
        for name in t.variants:
            parts = [_values(ft, messages) for _, ft in messages[name].fields]
            _at_most(math.prod(len(p) for p in parts), len(out))
            out.extend(MsgVal(name, tuple(args)) for args in product(*parts))
        return out
    if isinstance(t, T.TupleT):
        parts = [_values(e, messages) for e in t.elems]
        _at_most(math.prod(len(p) for p in parts))
        return [tuple(p) for p in product(*parts)]
    if isinstance(t, T.SeqT):
        if t.max is None:
            raise EvalError("unbounded sequence")
        return _sequences(_values(t.elem, messages), t.max)
    return type_values(t, messages, MAX_DOMAIN)


def _sequences(elems: list, k: int) -> list:
    """The sequences of at most ``k`` of ``elems``, shortest first (counted first: even of
    one element, 100,000 lengths would make billions of items)."""
    count = 1
    for n in range(1, k + 1):
        count += len(elems) ** n
        _at_most(count)
    out: list = [()]
    for n in range(1, k + 1):
        out.extend(product(elems, repeat=n))
    return out


def _bags(elems: list, k: int) -> list:
    out = [()]
    frontier = [((), 0)]
    for n in range(1, k + 1):
        _at_most(math.comb(len(elems) + n - 1, n), len(out))  # the bags of n of them
        nxt = []
        for bag, start in frontier:
            for i in range(start, len(elems)):
                b = bag + (elems[i],)
                out.append(b)
                nxt.append((b, i))
        frontier = nxt
    return out


class _Table:
    """The successors of some service instances' steps, by the values of the slots they read.

    Entries are computed on first use (only keys that the search meets are ever computed):
    ``entries[state & mask]`` is a tuple of XOR deltas, ``()`` for no step, or ERROR when a
    step raises StepError. A joined table concatenates the entries of its parts.

    The table of an instance of a replicated service whose steps use the instance's index
    only to name its own variables is a ``twin`` of the first instance's table: its entries
    are that table's, with the bits of the one instance's variables moved to the other's
    (computed once for both; ``spare`` holds those computed for a twin before the first
    instance met them)."""

    def __init__(self, pm: "PackedModel", slots: list[int], members, parts=None):
        self.pm = pm
        self.slots = slots
        self.members = members
        self.parts = parts
        self.mask = 0
        for i in slots:
            self.mask |= pm.field_mask[i]
        self.read = set(slots)  # every other slot is left POISON (a list of them per
        # table, as there was, took memory quadratic in the instances of a service)
        self.entries: dict[int, tuple] = {}
        # (the first instance's table, the bit moves of a key to it, of a delta back)
        self.twin: tuple | None = None
        self.spare: dict[int, tuple] = {}
        # with ``pm.record_steps``: per key computed, each successor's step as
        # ``(actor, action, kind)``, in the order of its deltas
        self.steps_of: dict[int, tuple] = {}

    def fill(self, key: int):
        if self.parts:
            out: tuple = ()
            for part in self.parts:
                k = key & part.mask
                ds = part.entries.get(k)
                if ds is None:
                    ds = part.fill(k)
                if ds is ERROR:
                    out = ERROR
                    break
                out += ds
            self.entries[key] = out
            return out
        if self.twin is not None:
            out = self._from_twin(key)
        else:
            out = self.spare.pop(key, None)
            if out is None:
                out = self._compute(key)
        self.entries[key] = out
        return out

    def _from_twin(self, key: int):
        src, to_src, to_twin = self.twin
        k = _moved(key, to_src)
        ds = src.entries.get(k)
        if ds is None:
            ds = src.spare.get(k)
            if ds is None:
                ds = src.spare[k] = src._compute(k)
        return ERROR if ds is ERROR else tuple(_moved(d, to_twin) for d in ds)

    def _compute(self, key: int):
        """The entry of ``key``, from the steps themselves."""
        pm, model = self.pm, self.pm.model
        state = pm.partial_state(self.slots, key)
        deltas: list[int] = []
        steps: list[tuple] | None = [] if pm.record_steps else None
        model.labels = False  # only the successors count here, not how steps are labelled
        try:
            for st, inst in self.members:
                # (labels off, a service's step names no actor: its member does)
                actor = None if steps is None or st["kind"] == "fault" else st["actor"](inst)
                for step, succ in model.step_successors(state, st, inst):
                    if steps is not None:
                        steps.append((actor or step.actor, step.action, step.kind))
                    delta = 0
                    for i in self.slots:
                        if succ[i] is not state[i]:
                            try:
                                c = pm.index[i][succ[i]]
                            except KeyError:
                                raise NotPackable(f"a value of {model.slot_names[i]} is "
                                                  "outside its list") from None
                            delta |= (c << pm.offset[i]) ^ (key & pm.field_mask[i])
                    for j, v in enumerate(succ):
                        if v is not POISON and j not in self.read:
                            raise NotPackable(f"{st['name']} writes {model.slot_names[j]} "
                                              "unexpectedly")
                    deltas.append(delta)
        except StepError:
            return ERROR
        except _PoisonRead:
            raise NotPackable(f"the steps of {self.members[0][1] or self.members[0][0]['name']}"
                              " read more than the packed engine found") from None
        except (TypeError, KeyError, AttributeError) as exc:
            raise NotPackable(f"cannot tabulate {self.members[0][0]['name']}: {exc}") from None
        finally:
            model.labels = True
        if steps is not None:
            self.steps_of[key] = tuple(steps)
        return tuple(deltas)


class PackedModel:
    """A compiled model (:class:`CompiledModel`) packed into integers; see module docstring."""

    def __init__(self, model, max_table: int = MAX_TABLE):
        self.model = model
        spec = model.spec
        if model.procs is not None:
            raise NotPackable("the spec has pi-calculus processes")
        if model.constraints:
            raise NotPackable("the spec has state constraints")
        self.max_table = max_table
        # whether tables keep the step of each successor they compute (for the state graph
        # of liveness, which then need not compute the entries again with their labels)
        self.record_steps = False
        self._rank: dict | None = None
        self.domains: list[list] = []
        self.index: list[dict] = []
        self.offset: list[int] = []
        self.width: list[int] = []
        self.sent = self._sent_payloads()
        bits = 0
        for slot, (name, t) in enumerate(zip(model.slot_names, model.slot_types)):
            values = self._slot_values(slot, t)
            if len(values) > MAX_DOMAIN:
                raise NotPackable(f"{name} has {len(values)} values")
            self.domains.append(values)
            self.index.append({v: i for i, v in enumerate(values)})
            w = max(1, (len(values) - 1).bit_length())
            self.offset.append(bits)
            self.width.append(w)
            bits += w
        self.bits = bits
        self.field_mask = [((1 << w) - 1) << o for w, o in zip(self.width, self.offset)]
        self.tables = self._build_tables()
        self.invariants = {p.name: self._predicate(p) for p in spec.properties_of("invariant")}
        self.reachables = {p.name: self._predicate(p, witness=True)
                           for p in spec.properties_of("reachable")}

    # ------------------------------------------------------------ layout
    def _slot_values(self, slot: int, t) -> list:
        model = self.model
        msgs = model.spec.messages
        try:
            if t is not None:
                return _values(t, msgs)
            # a channel slot: find its channel
            for name, slots in model.chan_slot.items():
                if slot in slots.values():
                    ch = model.chan_kind[name]
                    payload = _values(ch.payload, msgs)
                    if slot in self.sent:  # only these ever enter it
                        payload = [v for v in payload if v in self.sent[slot]]
                    payload.sort(key=_key)
                    if ch.kind == "fifo":
                        return _sequences(payload, ch.capacity)
                    if ch.kind == "bag":
                        return _bags(payload, ch.capacity)
                    if len(payload) > 14:
                        raise EvalError("too many values")
                    return [frozenset(x for i, x in enumerate(payload) if m >> i & 1)
                            for m in range(1 << len(payload))]
        except EvalError as exc:
            raise NotPackable(f"{model.slot_names[slot]}: {exc}") from None
        raise NotPackable(f"{model.slot_names[slot]} has no finite list of values")

    def _sent_payloads(self) -> dict[int, set]:
        """Per slot of a buffered channel whose messages are known before the search, the
        messages that can ever be in it: those it starts with and those its sends name, each
        send's payload a value of its own (read from no state, no parameter, no received
        message) in every instance of its service, put in the slot its channel's indices
        name in that instance (in every slot of the channel when they depend on more). A
        channel with another send is missing; so are all of them when some send names its
        channel by a value (a channel passed around). A token channel (``fifo(1) of bool =
        [true]`` with only ``true`` sent) then holds an empty slot or a ``true``: one bit,
        not two; a channel per instance that only its own instance sends to, naming itself
        (``work[i]!Job(i)``), holds only that instance's messages."""
        model = self.model
        spec = model.spec
        out: dict[int, set] = {}
        try:
            for ch in spec.channels.values():
                if ch.name not in model.chan_slot:
                    continue
                names = [n for n, _ in ch.indices]
                init = model._cx(ch.init) if ch.init is not None else None
                for idx, slot in model.chan_slot[ch.name].items():
                    out[slot] = set() if init is None else set(init(None,
                                                                    dict(zip(names, idx))))
        except Exception:  # noqa: BLE001 - the initial contents are known by the search
            return {}
        dropped: set[str] = set()
        for svc in spec.services.values():
            envs = ([{}] if svc.index is None
                    else [{svc.index[0]: i} for i in svc.index_values])
            for x in walk([svc.actions, svc.handlers]):
                if not isinstance(x, N.Send):
                    continue
                if not isinstance(x.channel, N.ChanVal):
                    return {}
                name = x.channel.channel
                if name not in model.chan_slot or name in dropped:
                    continue
                f = model._cx(x.payload)
                index = [model._cx(e) for e in x.channel.indices]
                slots = model.chan_slot[name]
                for env in envs:
                    try:
                        # no state (reading a slot fails), parameters unbound (a KeyError)
                        m = f(None, env)
                    except Exception:  # noqa: BLE001 - depends on more than the instance
                        dropped.add(name)
                        break
                    try:
                        targets = [slots[tuple(g(None, env) for g in index)]]
                    except Exception:  # noqa: BLE001 - the slot depends on more: all of them
                        targets = list(slots.values())
                    for slot in targets:
                        out[slot].add(m)
        for name in dropped:
            for slot in model.chan_slot[name].values():
                del out[slot]
        return out

    def encode(self, state: tuple) -> int:
        s = 0
        for i, v in enumerate(state):
            try:
                s |= self.index[i][v] << self.offset[i]
            except KeyError:
                raise NotPackable(f"value {v!r} of {self.model.slot_names[i]} is outside its "
                                  "list") from None
        return s

    def decode(self, s: int) -> tuple:
        return tuple(self.domains[i][(s >> o) & ((1 << w) - 1)]
                     for i, (o, w) in enumerate(zip(self.offset, self.width)))

    # ------------------------------------------------------------ which slots a node uses
    def _slots_of(self, node, env: dict, expanding: frozenset = frozenset()) -> set[int]:
        model = self.model
        out: set[int] = set()

        def resolve(index_expr, table: dict | int, env) -> list[int]:
            if isinstance(table, int):
                return [table]
            if index_expr is None:
                return list(table.values())
            try:
                value = model._cx(index_expr)([POISON] * len(model.slot_names), env)
                return [table[value]]
            except Exception:  # noqa: BLE001 - depends on state or parameters: all instances
                return list(table.values())

        # Walk the node; a `let` (what a definition call becomes) binds its name for the
        # body, so indices written with a definition's parameter still resolve to one slot.
        stack = [(node, env)]
        while stack:
            x, env = stack.pop()
            if isinstance(x, (tuple, list)):
                stack.extend((y, env) for y in x)
                continue
            names = node_fields(x)
            if names is None:
                continue
            if isinstance(x, N.LetE):
                stack.append((x.value, env))
                try:
                    value = model._cx(x.value)([POISON] * len(model.slot_names), env)
                    stack.append((x.body, {**env, x.name: value}))
                except Exception:  # noqa: BLE001 - depends on the state: indices below widen
                    stack.append((x.body, env))
                continue
            if isinstance(x, N.VarRef):
                out.update(resolve(x.index, model.var_slot[(x.owner, x.var)], env))
            elif isinstance(x, N.Target):
                out.update(resolve(x.index, model.var_slot[(x.owner, x.var)], env))
            elif isinstance(x, N.ChanVal):
                slots = model.chan_slot.get(x.channel)
                if slots is None:
                    # a sync channel: a send runs the receiving handlers as well (each
                    # handler once: its own channel names the same sync channel again)
                    if (model.fault_slot is not None and model.faults
                            and "lossy" in model.spec.channels[x.channel].flags):
                        out.add(model.fault_slot)  # a send may be lost: a fault counted
                    for h in model._receivers.get(x.channel, ()):
                        for inst in h["instances"]:
                            up = model.up_slot_of(h["service"], inst)  # a crashed one takes none
                            if up is not None:
                                out.add(up)
                        if id(h) in expanding:
                            continue
                        for inst in h["instances"]:
                            out |= self._slots_of(h["node"], inst, expanding | {id(h)})
                else:
                    try:
                        idx = tuple(model._cx(i)([POISON] * len(model.slot_names), env)
                                    for i in x.indices)
                        out.add(slots[idx])
                    except Exception:  # noqa: BLE001
                        out.update(slots.values())
            elif isinstance(x, N.Local) and isinstance(x.type, T.ChanT):
                for slots in model.chan_slot.values():  # a channel passed as a value
                    out.update(slots.values())
            stack.extend((getattr(x, name), env) for name in names)
        return out

    def _combinations(self, slots: list[int]):
        return product(*(range(len(self.domains[i])) for i in slots))

    # ------------------------------------------------------------ transition tables
    def _build_tables(self):
        model = self.model
        groups: dict[str, list] = {}
        for st, inst in model.members:  # instance by instance, as the scalar engine lists them
            groups.setdefault(st["actor"](inst), []).append((st, inst))
        tables = []
        # per replicated service and run of its steps, the first instance's table
        first: dict[tuple, _Table] = {}
        for actor, members in groups.items():
            svc = members[0][0]["service"]
            for run, reads in self._runs_of_steps(members):
                t = _Table(self, sorted(reads), run)
                key = (svc, tuple(id(st) for st, _ in run))
                if key in first:
                    t.twin = self._twin(first[key], t)
                elif self._symmetric(svc):
                    first[key] = t
                tables.append(t)
        # then the fault steps, as the scalar engine lists them
        for fst in model.fault_steps:
            tables.append(_Table(self, sorted(self._fault_reads(fst)), [(fst, None)]))
        return self._merge(tables)

    def _step_reads(self, st: dict, inst: dict) -> set[int]:
        """The slots a step of a service instance reads (or writes): those its node names,
        and the instance's ``up`` slot when it can crash (a crashed instance takes no
        step)."""
        out = self._slots_of(st["node"], inst)
        up = self.model.up_slot_of(st["service"], inst)
        if up is not None:
            out.add(up)
        return out

    def _fault_reads(self, fst: dict) -> set[int]:
        """The slots a fault step reads or writes: a channel slot or an instance's ``up``
        slot and its volatile variables; the count of faults, when runs have a budget."""
        model = self.model
        out = {fst["slot"]}
        if model.fault_slot is not None:
            out.add(model.fault_slot)
        if fst["fault"] == "crash":
            for v in model.spec.services[fst["service"]].vars:
                if not v.durable:
                    out.add(model._var_slot_of(fst["service"], v.name, fst["idx"]))
                    if v.init is not None:  # an initial value read from other slots
                        out |= self._slots_of(v.init, fst["env"])
        return out

    def _runs_of_steps(self, members: list) -> list[tuple[list, set]]:
        """An instance's steps (in their order) cut where the slots they read change, when
        its whole table would be large (more keys than ``max_table``) and every run reads
        fewer keys than the whole: a table per run of steps that read the same slots (each
        run with the slots it reads). An
        instance that takes from a queue in one step and records what it took in a set in
        another then has a table of queue x order and one of order x set, not one of all
        three. (The successors keep their order either way.)"""
        runs: list[list] = []
        reads: list[set] = []
        for st, inst in members:
            slots = self._step_reads(st, inst)
            if runs and (slots == reads[-1] or runs[-1][-1][0] is st):
                runs[-1].append((st, inst))  # (the instances of one step stay together)
                reads[-1] |= slots
            else:
                runs.append([(st, inst)])
                reads.append(set(slots))
        size = lambda slots: prod(len(self.domains[i]) for i in slots)  # noqa: E731
        union = set().union(*reads)
        whole = size(union)
        sizes = [size(r) for r in reads]
        if len(runs) > 1 and max(sizes) < whole and (
                whole > self.max_table
                or whole > SPLIT_MIN and SPLIT_GAIN * sum(sizes) <= whole):
            return list(zip(runs, reads))
        return [(members, union)]

    def _symmetric(self, service: str) -> bool:
        """Whether the steps of a replicated service use its index only to name the
        instance's own variables (then one instance's table gives the others')."""
        svc = self.model.spec.services[service]
        if not svc.index:
            return False
        name = svc.index[0]
        own = uses = 0
        for x in walk([st["node"] for st in self.model.steps if st["service"] == service]):
            if isinstance(x, N.Local) and x.name == name:
                uses += 1
            elif isinstance(x, (N.VarRef, N.Target)) and x.owner == service:
                if not (isinstance(x.index, N.Local) and x.index.name == name):
                    return False  # another instance's variable
                own += 1
        return uses == own  # the index names its own variables, and nothing else

    def _twin(self, src: _Table, t: _Table) -> tuple | None:
        """(``src``, the bit moves from ``t``'s slots to ``src``'s, those back) when
        ``t``'s instance mirrors ``src``'s: its slots are ``src``'s with the first
        instance's own variables replaced by its own."""
        model = self.model
        service = src.members[0][0]["service"]
        index = model.spec.services[service].index[0]
        a, b = src.members[0][1][index], t.members[0][1][index]
        if [st for st, _ in src.members] != [st for st, _ in t.members]:
            return None
        own = {}  # slot of a variable of instance a -> the same variable's slot in b
        others = set()  # the variables' slots of the other instances
        for (owner, _), slots in model.var_slot.items():
            if owner == service and isinstance(slots, dict):
                own[slots[a]] = slots[b]
                others.update(v for k, v in slots.items() if k != a)
        if (service, a) in model.up_slot:  # a crashable service: its up slots as well
            own[model.up_slot[(service, a)]] = model.up_slot[(service, b)]
            others.update(v for (owner, k), v in model.up_slot.items()
                          if owner == service and k != a)
        pairs = [(i, own.get(i, i)) for i in src.slots]
        if any(i in others for i in src.slots) or sorted(j for _, j in pairs) != t.slots \
                or any(self.width[i] != self.width[j] for i, j in pairs):
            return None
        off = self.offset
        return (src, [(off[j], (1 << self.width[j]) - 1, off[i]) for i, j in pairs],
                [(off[i], (1 << self.width[i]) - 1, off[j]) for i, j in pairs])

    def _slots_in(self, mask: int) -> list[int]:
        return [i for i, m in enumerate(self.field_mask) if mask & m]

    def _merge(self, tables):
        """Join neighbouring tables while the joined key space stays small: one lookup then
        finds the steps of several service instances (their entries are concatenated)."""
        merged: list[_Table] = []
        for t in tables:
            if merged:
                slots = sorted(set(merged[-1].slots) | set(t.slots))
                if prod(len(self.domains[i]) for i in slots) <= self.max_table:
                    parts = (merged[-1].parts or [merged[-1]]) + [t]
                    merged[-1] = _Table(self, slots, [], parts)
                    continue
            merged.append(t)
        return merged

    def member_rank(self) -> dict:
        """Where each step of the tables' members (a step and an instance, or a fault step)
        comes in the scalar engine's list of successors, by ``(id(step), id(instance))``."""
        if self._rank is None:
            model, rank = self.model, {}
            for st, inst in model.members:
                rank[(id(st), id(inst))] = len(rank)
            for fst in model.fault_steps:
                rank[(id(fst), id(None))] = len(rank)
            self._rank = rank
        return self._rank

    def partial_state(self, slots: list[int], key: int) -> tuple:
        """A state with the given slots set from ``key`` and every other slot poisoned."""
        state = [POISON] * len(self.domains)
        for i in slots:
            state[i] = self.domains[i][(key >> self.offset[i]) & ((1 << self.width[i]) - 1)]
        return tuple(state)

    # ------------------------------------------------------------ properties
    def _conjuncts(self, e: N.Expr, env: dict, split_or: bool):
        """Split ``and``/``forall`` (or ``or``/``exists``) over constant sets into leaves;
        a negation is pushed through their duals first (``not exists`` is ``forall not``,
        ``not (a or b)`` is ``not a and not b``), so that each leaf reads few slots."""
        model = self.model
        join, quant = ("or", "exists") if split_or else ("and", "forall")
        dual_join, dual_quant = ("and", "forall") if split_or else ("or", "exists")
        negated = isinstance(e, N.Unary) and e.op == "not"
        inner = e.operand if negated else None

        def neg(x: N.Expr) -> N.Expr:
            return N.Unary(T.BOOL, op="not", operand=x, span=e.span)

        if negated and isinstance(inner, N.Unary) and inner.op == "not":
            yield from self._conjuncts(inner.operand, env, split_or)
            return
        if isinstance(e, N.BoolOp) and e.op == join:
            for o in e.operands:
                yield from self._conjuncts(o, env, split_or)
            return
        if negated and isinstance(inner, N.BoolOp) and inner.op == dual_join:
            for o in inner.operands:
                yield from self._conjuncts(neg(o), env, split_or)
            return
        q = e if isinstance(e, N.Quant) and e.kind == quant else (
            inner if negated and isinstance(inner, N.Quant) and inner.kind == dual_quant
            else None)
        if q is not None:
            try:
                envs = model._bindings(q.vars)([POISON] * len(model.slot_names), env)
            except Exception:  # noqa: BLE001 - the domain depends on the state
                envs = None
            if envs is not None:
                for b in envs:
                    yield from self._conjuncts(q.body if q is e else neg(q.body), b, split_or)
                return
            over = self._set_domain(q, env)
            if over is not None:
                # ``forall x in S: B`` over a set slot S is ``x in S => B`` for every value x
                # of its list (``exists``: ``x in S and B``), so each part reads a few bits
                name, dom = q.vars[0]
                body = q.body if q is e else neg(q.body)
                inside = N.Binary(T.BOOL, op="in", left=N.Local(dom.type.elem, name=name,
                                                                  span=dom.span),
                                  right=dom, span=dom.span)
                part = N.BoolOp(T.BOOL, op="and", operands=(inside, body), span=e.span) \
                    if split_or else N.Binary(T.BOOL, op="=>", left=inside, right=body,
                                              span=e.span)
                for v in over:
                    yield from self._conjuncts(part, {**env, name: v}, split_or)
                return
        yield e, env

    def _set_domain(self, q: N.Quant, env: dict) -> list | None:
        """The list of values of the one set slot a one-variable quantifier ranges over (its
        domain ``S`` or ``pending(c)`` of a set or log channel ``c``), or None."""
        if len(q.vars) != 1:
            return None
        dom = q.vars[0][1]
        if not isinstance(dom.type, T.SetT) or q.vars[0][0] in _locals(dom):
            return None
        slot = self._one_slot(dom, env)
        bits = {} if slot is None else self._set_bits(slot)
        return sorted(bits, key=bits.get) if bits else None

    def _one_slot(self, e: N.Expr, env: dict) -> int | None:
        """The slot ``e`` is, when it is a variable or ``pending`` of a channel that names
        one slot under ``env``; else None."""
        if isinstance(e, N.Call) and e.func == "pending" and isinstance(e.args[0], N.ChanVal):
            e = e.args[0]
        if not isinstance(e, (N.VarRef, N.ChanVal)):
            return None
        try:
            reads = self._slots_of(e, env)
        except Exception:  # noqa: BLE001 - it depends on the state or the parameters
            return None
        return next(iter(reads)) if len(reads) == 1 else None

    def _predicate(self, p: N.Property, witness: bool = False):
        """A property as leaves ``(mask, good, slow)``: ``good`` holds the keys where the leaf
        is true; ``slow`` is ``(f, env)`` for a leaf that reads too much to tabulate.

        An invariant is a list of leaves that must all hold. A reachable property is a list
        of disjuncts (``or``, ``exists``), each a list of leaves that must all hold."""
        if not witness:
            return [self._leaf(e, env) for e, env in self._conjuncts(p.expr, {}, False)]
        return [[self._leaf(c, cenv) for c, cenv in self._conjuncts(d, denv, False)]
                for d, denv in self._conjuncts(p.expr, {}, True)]

    def _leaf(self, e: N.Expr, env: dict):
        """``(mask, good, test)``: ``good`` is the set of keys where the leaf holds, computed
        at once when the slots it reads have few values; otherwise ``test(state)`` decides:
        a :class:`_Compound` of narrow parts when the leaf's boolean structure splits into
        parts that each read few slots (see :meth:`_split`), else a test that remembers
        each key it has seen.

        A set slot (or a set or log channel) that the leaf reads only through ``c in S``
        for constants ``c`` is read bit by bit: the key holds just the bits of those
        elements (a value's index in such a slot is the bit mask of its elements)."""
        mask, size, keys, value = self._reader(e, env)
        if size <= EAGER_LEAF:
            fast = self._in_contents(e, env)
            return (mask, fast if fast is not None else frozenset(k for k in keys()
                                                                   if value(k)), None)
        tree = self._split(e, env, [MAX_PARTS])
        if tree is not None:
            return (_tree_mask(tree), None, _Compound(tree))
        memo: dict[int, bool] = {}

        def test(s: int) -> bool:
            k = s & mask
            v = memo.get(k)
            if v is None:
                v = memo[k] = value(k)
            return v
        return (mask, None, test)

    def _reader(self, e: N.Expr, env: dict):
        """How a leaf reads the state: ``(mask, size, keys, value)``: the bits it reads,
        the number of their combinations, all of them (``keys()``), and ``value(key,
        strict=False)``, whether the leaf holds there (a domain error counts as false, or
        raises :class:`StepError` when ``strict``)."""
        model = self.model
        f = model._cx(e)
        hits = self._memberships(e, env)
        if hits:
            slots = sorted(self._slots_of(_without(e, hits), env))
        else:
            slots = sorted(self._slots_of(e, env))
        elems: dict[int, list] = {}
        for slot, elem in hits.values():
            if slot not in slots:
                es = elems.setdefault(slot, [])
                if elem in self._set_bits(slot) and elem not in es:
                    es.append(elem)  # (an element outside the list is in no value)
        mask = 0
        for i in slots:
            mask |= self.field_mask[i]
        bit_of = []  # (slot, element, the element's bit in a state)
        for slot, es in sorted(elems.items()):
            for elem in es:
                b = 1 << (self.offset[slot] + self._set_bits(slot)[elem])
                bit_of.append((slot, elem, b))
                mask |= b

        def value(key: int, strict: bool = False) -> bool:
            state = self.partial_state(slots, key)
            if elems:
                state = list(state)
                for slot in elems:
                    state[slot] = frozenset(el for s2, el, b in bit_of
                                            if s2 == slot and key & b)
                state = tuple(state)
            try:
                return f(state, env) is True
            except StepError:
                if strict:
                    raise
                return False  # a domain error inside the property counts as false
            except _PoisonRead:
                raise NotPackable("a property reads more than the packed engine found") \
                    from None

        def keys():
            for combo in self._combinations(slots):
                base = 0
                for i, c in zip(slots, combo):
                    base |= c << self.offset[i]
                for m in range(1 << len(bit_of)):
                    key = base
                    for j, (_, _, b) in enumerate(bit_of):
                        if m >> j & 1:
                            key |= b
                    yield key

        return mask, prod(len(self.domains[i]) for i in slots) << len(bit_of), keys, value

    def _split(self, e: N.Expr, env: dict, budget: list[int]):
        """The boolean structure of ``e`` (``and``, ``or``, ``not``, ``=>``, ``forall`` and
        ``exists`` over constant sets) down to parts that each read few slots, tabulated:
        ``("leaf", (mask, good))``, ``("not", tree)``, ``("and" | "or", [trees])``; or None.

        Only when no part raises a domain error on any combination of the values it reads:
        then no operand is left unevaluated for an error, and combining the parts' values
        gives the value of ``e``. ``budget[0]`` bounds the number of parts."""
        if isinstance(e, N.BoolOp) and e.op in ("and", "or"):
            parts = []
            for o in e.operands:
                t = self._part(o, env, budget)
                if t is None:
                    return None
                parts.append(t)
            return (e.op, parts)
        if isinstance(e, N.Binary) and e.op == "=>":
            left = self._part(e.left, env, budget)
            right = None if left is None else self._part(e.right, env, budget)
            return None if right is None else ("or", [("not", left), right])
        if isinstance(e, N.Unary) and e.op == "not":
            t = self._part(e.operand, env, budget)
            return None if t is None else ("not", t)
        if isinstance(e, N.Quant) and e.kind in ("exists", "forall"):
            try:
                envs = list(self.model._bindings(e.vars)([POISON] * len(self.domains), env))
            except Exception:  # noqa: BLE001 - the domain depends on the state
                return None
            parts = []
            for b in envs:
                t = self._part(e.body, b, budget)
                if t is None:
                    return None
                parts.append(t)
            return ("or" if e.kind == "exists" else "and", parts)
        return None

    def _part(self, e: N.Expr, env: dict, budget: list[int]):
        """One part of :meth:`_split`: tabulated when it reads few slots, else split."""
        mask, size, keys, value = self._reader(e, env)
        if size > EAGER_LEAF:
            return self._split(e, env, budget)
        budget[0] -= 1
        if budget[0] < 0:
            return None
        fast = self._in_contents(e, env)
        if fast is not None:
            return ("leaf", (mask, fast))
        try:
            return ("leaf", (mask, frozenset(k for k in keys() if value(k, strict=True))))
        except StepError:
            return None

    def _in_contents(self, e: N.Expr, env: dict) -> frozenset | None:
        """The keys where ``e`` holds, when ``e`` is ``c in pending(ch)`` or ``c notin
        pending(ch)`` with ``c`` a constant under ``env`` and ``ch`` one channel slot whose
        values are not read bit by bit (a fifo or a bag): found by testing ``c`` against
        each contents the slot can hold, as the compiled test does (membership in the
        contents as a set), rather than by evaluating ``e`` once per key. None otherwise
        (or when ``c`` cannot be evaluated): then the keys are evaluated one by one."""
        if not (isinstance(e, N.Binary) and isinstance(e.right, N.Call)
                and e.right.func == "pending"):
            return None
        state = [POISON] * len(self.domains)
        got = self._constant_member(e, env, state)
        if got is None or self._set_bits(got[0]):  # (set bits: read bit by bit instead)
            return None
        slot, c = got
        try:
            state[slot] = self.domains[slot][-1]  # the slot is the contents that are read
            if self.model._cx(e.right)(tuple(state), env) != frozenset(state[slot]):
                return None
        except Exception:  # noqa: BLE001 - it fails: evaluated per key
            return None
        off, want = self.offset[slot], e.op == "in"
        return frozenset(i << off for i, items in enumerate(self.domains[slot])
                         if (c in frozenset(items)) == want)

    def _set_bits(self, slot: int) -> dict:
        """Each element's bit in a slot whose values are the subsets of a list (the index of
        a value is the bit mask of its elements); empty for any other slot."""
        cache = self.__dict__.setdefault("_bits_cache", {})
        out = cache.get(slot)
        if out is None:
            out = {}
            dom = self.domains[slot]
            n = len(dom)
            if n >= 2 and n & (n - 1) == 0 and dom[0] == frozenset() \
                    and all(isinstance(v, frozenset) for v in dom):
                for j in range(n.bit_length() - 1):
                    v = dom[1 << j]
                    if len(v) != 1:
                        out = {}
                        break
                    out[next(iter(v))] = j
                if out and len(dom[-1]) != len(out):
                    out = {}
            cache[slot] = out
        return out

    def _memberships(self, e: N.Expr, env: dict) -> dict:
        """The tests ``c in S`` / ``c notin S`` inside ``e`` where ``c`` is a constant under
        ``env`` and ``S`` is one set slot: ``{id(node): (slot, value of c)}``."""
        bound = _bound_names(e)
        none = [POISON] * len(self.model.slot_names)
        out: dict = {}
        for x in walk(e, lambda x: id(x) not in out):  # not below a test it takes
            if isinstance(x, N.Binary) and not (_locals(x.left) & bound):
                got = self._constant_member(x, env, none)
                if got is not None and self._set_bits(got[0]):
                    out[id(x)] = got
        return out

    def _constant_member(self, x: N.Expr, env: dict, none: list) -> tuple | None:
        """``(slot, value of c)`` for ``x`` a test ``c in S`` or ``c notin S`` where ``c``
        is a constant under ``env`` (it reads no slot and evaluates on ``none``, a state of
        poison values) and ``S`` one slot: a variable, or ``pending`` of a channel; else
        None."""
        if not (isinstance(x, N.Binary) and x.op in ("in", "notin")):
            return None
        slot = self._one_slot(x.right, env)
        if slot is None:
            return None
        try:
            if self._slots_of(x.left, env):
                return None
            return slot, self.model._cx(x.left)(none, env)
        except Exception:  # noqa: BLE001 - not a constant
            return None

    @staticmethod
    def leaf_holds(leaf, s: int) -> bool:
        mask, good, test = leaf
        return (s & mask) in good if test is None else test(s)


def check_level(pm: PackedModel, invariants, reach: dict, states, level: int,
                spans: dict, violations: list, found: list, keep_going: bool,
                first_violation, has_witness) -> bool:
    """Check the invariants on one new level (recording the first violating state of each)
    and strike off the reachable properties it witnesses; False when the search must stop.
    Shared by the packed and vector engines, which pass their own leaf tests."""
    for name, leaves in invariants:
        bad = first_violation(leaves, states)
        if bad is not None:
            violations.append(Violation("invariant", name, f"invariant {name} is violated"
                                        f"{_why_broken(pm, name, bad)}", None,
                                        span=spans.get(name)))
            found.append((level, bad))
            if not keep_going:
                return False
    for name in list(reach):
        if has_witness(reach[name], states):
            del reach[name]
    return True


def _why_broken(pm: PackedModel, name: str, s: int) -> str:
    """Why invariant ``name`` does not hold in state ``s`` when evaluating it there fails, as
    the scalar engine says it; else nothing (it is false there)."""
    for p in pm.model.properties():
        if p.name == name:
            try:
                p.check(pm.decode(s))
            except StepError as err:
                return f" (evaluating it failed: {err.message})"
    return ""


def report_unreachable(reach: dict, spans: dict, violations: list, found: list) -> None:
    """After a complete search: every reachable property never witnessed is a violation."""
    for name in reach:
        violations.append(unreachable(name, spans.get(name)))
        found.append((-1, 0))


@dataclass
class Handoff:
    """Where :func:`packed_search` stopped for another engine to go on: at the start of level
    ``depth`` (``frontier``, already checked), with everything found so far."""

    t0: float
    frontier: list[int]
    visited: set
    levels: list
    depth: int
    transitions: int
    violations: list
    found: list
    reach: dict  # the reachable properties not yet witnessed
    last_report: float


def packed_start(pm: PackedModel, small: int = SMALL_LEVEL, max_visited: int = SMALL_STATES,
                 levels: list | None = None, **options) -> SearchResult | Handoff:
    """The first levels of a search, by the packed loop: while a level has fewer than
    ``small`` states and fewer than ``max_visited`` states are visited. Returns the whole
    search's result (its ``packed_levels`` the number of levels) when it ends there, else
    the :class:`Handoff` from which the vector engine goes on. Needs no numpy: a small
    model is checked without importing it."""
    levels = [] if levels is None else levels
    got = packed_search(pm, until=lambda size, n: size >= small or n >= max_visited,
                        levels=levels, **options)
    if isinstance(got, SearchResult):
        got.packed_levels = len(levels)
    return got


def interrupted_at(pm: PackedModel, h: Handoff, states: int) -> SearchResult:
    """The result of a search that Ctrl-C stopped as another engine took over from
    :func:`packed_start` at ``h`` (``states`` visited then): what the packed loop found,
    all of it checked, its violations with their traces."""
    levels = list(h.levels) + [_pack_level(h.frontier, pm.bits)]
    # (the other engine shares the lists: what it found past the handoff is left out)
    pairs = [(v, f) for v, f in zip(h.violations, h.found) if f[0] <= h.depth]
    traces, cut = traces_of(pm, levels, [f for _, f in pairs])
    return SearchResult("violation" if pairs else "inconclusive", states, h.transitions,
                        h.depth, time.monotonic() - h.t0, _peak(), [v for v, _ in pairs],
                        traces, with_cut("interrupted", cut), "bfs", False,
                        packed_levels=h.depth)


def packed_search(pm: PackedModel, *, limits: Limits = Limits(), check_deadlock: bool = True,
                  keep_going: bool = False, properties: list[str] | None = None,
                  progress: Callable[[dict], None] | None = None,
                  until: Callable[[int, int], bool] | None = None,
                  levels: list | None = None) -> SearchResult | Handoff:
    """Breadth-first search over packed states, level by level (see module docstring).

    With ``until``, called at the start of each level with its size and the number of
    visited states: when it returns True the search stops there and returns a
    :class:`Handoff` instead of a result. The levels (as the traces read them) go into
    ``levels`` when it is given."""
    t0 = time.monotonic()
    model = pm.model
    tables = pm.tables
    invariants = [(n, leaves) for n, leaves in pm.invariants.items()
                  if properties is None or n in properties]
    reach = {n: leaves for n, leaves in pm.reachables.items()
             if properties is None or n in properties}
    inv_spans = {p.name: p.span for p in model.spec.properties}
    violations: list[Violation] = []
    found: list[tuple[int, int]] = []  # (level, packed state) of each violation
    reason = None
    stop = False

    init = []
    visited: set[int] = set()
    last_report = t0
    for st in model.initial_states():
        s = pm.encode(st)
        if s not in visited:
            visited.add(s)
            init.append(s)
    transitions = len(model.initial_states())
    levels = [] if levels is None else levels
    frontier = init
    depth = 0

    def first_violation(leaves, states):
        """The first state where some leaf fails. The keys of a level are gathered with
        map() and set() (no Python code per state); only a level with a bad key is
        searched state by state."""
        best = None
        for mask, good, test in leaves:
            if test is None:
                if set(map(mask.__and__, states)) <= good:
                    continue
                hit = next(i for i, s in enumerate(states) if (s & mask) not in good)
            else:
                hit = next((i for i, s in enumerate(states) if not test(s)), None)
            if hit is not None and (best is None or hit < best):
                best = hit
        return None if best is None else states[best]

    def first_witness(disjuncts, states):
        """A state where every leaf of some disjunct holds (filtering leaf by leaf)."""
        for leaves in disjuncts:
            cand = states
            for mask, good, test in sorted(leaves, key=lambda lf: lf[2] is not None):
                if test is None:
                    cand = [s for s in cand if (s & mask) in good]
                else:
                    cand = [s for s in cand if test(s)]
                if not cand:
                    break
            if cand:
                return cand[0]
        return None

    def check_new(states, level) -> bool:
        nonlocal stop, unchecked
        unchecked = (states, level, len(found))  # until the check is done (for Ctrl-C)
        ok = check_level(pm, invariants, reach, states, level, inv_spans, violations, found,
                         keep_going, first_violation,
                         lambda disjuncts, sts: first_witness(disjuncts, sts) is not None)
        stop = stop or not ok
        unchecked = None
        return ok

    partial = False  # stopped in a level, after finding states of the next
    expanding = False  # a level is being expanded (``nxt``: the next level found so far)
    unchecked = None  # a level found, counted, and being checked
    try:
        check_new(init, 0)
        while frontier and not stop:
            if until is not None and until(len(frontier), len(visited)):
                return Handoff(t0, frontier, visited, levels, depth, transitions, violations,
                               found, reach, last_report)
            levels.append(_pack_level(frontier, pm.bits))
            if limits.max_depth is not None and depth >= limits.max_depth:
                reason = f"depth bound {limits.max_depth} reached"
                break
            nxt: list[int] = []
            add, push = visited.add, nxt.append
            gets = [(t.mask, t.entries.get, t.fill) for t in tables]
            expanding = True
            for n_done, s in enumerate(frontier):
                moved = False
                found_ds = []
                for mask, get, fill in gets:
                    k = s & mask
                    ds = get(k)
                    if ds is None:
                        ds = fill(k)
                    if ds:
                        moved = True
                        found_ds.append(ds)
                if found_ds and any(ds is ERROR for ds in found_ds):
                    # a step fails in this state: it is not expanded (as the scalar engine)
                    violations.append(_step_error(model, pm, s))
                    found.append((depth, s))
                    if not keep_going:
                        stop = True
                        break
                    continue
                for ds in found_ds:
                    transitions += len(ds)
                    for d in ds:
                        t = s ^ d
                        if t not in visited:
                            add(t)
                            push(t)
                if not moved and check_deadlock and not model.is_valid_end(pm.decode(s)):
                    violations.append(Violation("deadlock", "deadlock_free",
                                                "no step is enabled (deadlock)", None))
                    found.append((depth, s))
                    if not keep_going:
                        stop = True
                        break
                if n_done % CHECK_EVERY == CHECK_EVERY - 1:
                    now = time.monotonic()
                    reason = limit_reached(limits, t0, len(visited))
                    if reason:
                        break
                    if progress is not None and now - last_report >= 1.0:
                        last_report = now
                        progress({"states": len(visited), "transitions": transitions,
                                  "queue": len(frontier) - n_done + len(nxt), "depth": depth,
                                  "seconds": now - t0, "memory": _rss()})
            expanding = False
            if not stop and not reason:
                reason = limit_reached(limits.time_and_memory(), t0, len(visited))
            if stop or reason:
                partial = bool(nxt)  # states of the next level were found
                if reason and not stop and nxt:  # a limit: what was found is still checked
                    levels.append(_pack_level(nxt, pm.bits))
                    check_new(nxt, depth + 1)
                break
            depth += 1
            if nxt and not check_new(nxt, depth):
                levels.append(_pack_level(nxt, pm.bits))
                break
            frontier = nxt
            if limits.max_states is not None and len(visited) >= limits.max_states and nxt:
                reason = f"state limit of {limits.max_states} reached"
                break
    except KeyboardInterrupt:
        reason = "interrupted"
        # every state found (and counted) is checked, as on a limit: the states found of a
        # level being built, or a level whose check was cut short (checked again, from the
        # start); a second Ctrl-C meanwhile leaves them not all checked
        try:
            if unchecked is None and expanding and not stop and nxt:
                partial = True
                levels.append(_pack_level(nxt, pm.bits))
                unchecked = (nxt, depth + 1, len(found))
            if unchecked is not None:
                left, at_level, before = unchecked
                del violations[before:], found[before:]
                check_new(left, at_level)
        except KeyboardInterrupt:
            pass

    del violations[len(found):]  # one recorded without its state as Ctrl-C came
    complete = reason is None and not stop
    if complete:
        report_unreachable(reach, inv_spans, violations, found)
    traces, cut = traces_of(pm, levels, found)
    if cut:  # the run was stopped: what was found stands
        reason, complete = with_cut(reason, cut), False
    verdict = "violation" if violations else ("inconclusive" if reason else "ok")
    max_depth = depth + 1 if partial else depth if frontier else max(depth - 1, 0)
    return SearchResult(verdict, len(visited), transitions, max(max_depth, 0),
                        time.monotonic() - t0, _peak(), violations, traces, reason, "bfs",
                        complete)


def _pack_level(states: list[int], bits: int):
    if bits <= 64:
        return array("Q", states)
    return list(states)


def _step_error(model, pm: PackedModel, s: int) -> Violation:
    try:
        model.successors(pm.decode(s))
    except StepError as err:
        return Violation(err.kind, err.kind, err.message, None, step=getattr(err, "step", None),
                         span=err.span)
    return Violation("domain", "domain", "a step failed", None)


def _fails(pm: PackedModel, s: int) -> bool:
    """Whether a step fails in state ``s`` (its entry in some table is ERROR)."""
    return any(t.entries.get(s & t.mask) is ERROR for t in pm.tables)


class Inverse:
    """The table entries read backwards, made once for all the traces of a search: a
    predecessor of ``t`` is ``t ^ d`` for a table entry ``(key, d)`` whose key it matches,
    so each step back tries the entries rather than the states of a level."""

    def __init__(self, pm: PackedModel):
        self.pairs = [(t.mask, [(k, d) for k, ds in t.entries.items() if ds is not ERROR
                                for d in ds]) for t in pm.tables]

    def predecessors(self, cur: int) -> list[int]:
        """The states with a step to ``cur`` by the entries filled so far (each once)."""
        cands = {}
        for mask, pairs in self.pairs:
            for k, d in pairs:
                s = cur ^ d
                if s & mask == k:
                    cands[s] = None
        return list(cands)


def traces_of(pm: PackedModel, levels, found: list, inverse=None,
              prepare: Callable[[], None] | None = None) -> tuple[list, str | None]:
    """The trace of each ``(level, state)`` of ``found`` (none for level -1: a reachable
    property never witnessed), walked back through ``levels`` with one ``inverse(pm)``
    (:class:`Inverse` by default), made only when some trace has a step; ``prepare`` is
    called first when some trace is to be made.

    Returns the traces and, should Ctrl-C stop the walk, why some are missing (those not
    made yet are empty): the violations found stand, their traces are not waited for."""
    traces: list = []
    try:
        back = None
        if any(level > 0 for level, _ in found):
            if prepare is not None:
                prepare()
            back = (inverse or Inverse)(pm)
        for level, s in found:
            traces.append(_trace(pm, levels, level, s, back) if level >= 0 else [])
    except KeyboardInterrupt:  # (a reachable property never witnessed has no trace)
        made = sum(level >= 0 for level, _ in found[:len(traces)])
        traces += [[] for _ in found[len(traces):]]
        return traces, (f"interrupted while the traces were rebuilt ({made} of "
                        f"{sum(level >= 0 for level, _ in found)} made)")
    return traces, None


def with_cut(reason: str | None, cut: str | None) -> str | None:
    """The reason a search ended, and :func:`traces_of`'s, should Ctrl-C have stopped
    that: both are kept."""
    return reason if cut is None else cut if reason is None else f"{reason}; {cut}"


def _trace(pm: PackedModel, levels, level: int, target: int,
           back: Inverse | None = None) -> list[TraceStep]:
    """Walk back level by level to an initial state (through ``back``, the entries read
    backwards), then replay with the scalar engine."""
    back = back or Inverse(pm)
    locate = getattr(levels, "locate", None)
    path = [target]
    for j in range(level - 1, -1, -1):
        cands = back.predecessors(path[-1])
        if locate is not None:
            position = locate(j, list(cands))
        else:
            position = {s: n for n, s in enumerate(levels[j])}
        # the parent met first in the level: the one breadth-first search records (a state
        # where a step fails was not expanded: it is no parent)
        found = sorted((position[s], s) for s in cands if s in position)
        parent = next((s for _, s in found if not _fails(pm, s)), None)
        if parent is None:  # pragma: no cover - every state of level j+1 has a parent
            raise AssertionError("broken level structure")
        path.append(parent)
    path.reverse()
    states = [pm.decode(s) for s in path]
    out = [TraceStep(None, states[0])]
    for i in range(1, len(path)):
        out.append(TraceStep(_step_between(pm, path[i - 1], path[i], states[i - 1],
                                           states[i]), states[i]))
    return out


def _step_between(pm: PackedModel, sa: int, sb: int, a: tuple, b: tuple):
    """The step from ``a`` to ``b`` (packed: ``sa``, ``sb``) that the scalar engine lists
    first, with its labels. Only the steps of the tables whose entry for ``a`` holds the
    delta ``sa ^ sb`` can make ``b``: those are run, in the scalar engine's order, before
    (should none make it) every step."""
    model = pm.model
    d = sa ^ sb
    rank = pm.member_rank()
    members = []
    for t in pm.tables:
        for leaf in t.parts or (t,):
            ds = leaf.entries.get(sa & leaf.mask)
            if ds is not None and ds is not ERROR and d in ds:
                members.extend(leaf.members)
    members.sort(key=lambda m: rank[(id(m[0]), id(m[1]))])
    for st, inst in members:
        for step, succ in model.step_successors(a, st, inst):
            if succ == b:
                return step
    for step, succ in model.successors(a):  # pragma: no cover - every entry is filled
        if succ == b:
            return step
    raise AssertionError("packed and scalar successors disagree")  # pragma: no cover


_TRUE = N.Lit(T.BOOL, value=True)


def _moved(x: int, moves) -> int:
    """``x`` with each field ``(x >> at) & mask`` moved to bit ``to``."""
    out = 0
    for at, mask, to in moves:
        out |= ((x >> at) & mask) << to
    return out


class _Compound:
    """A property leaf that reads too much to tabulate, as a boolean combination of parts
    that are tabulated (``tree``, made by :meth:`PackedModel._split`); ``self(state)``
    evaluates it."""

    __slots__ = ("tree",)

    def __init__(self, tree):
        self.tree = tree

    def __call__(self, s: int) -> bool:
        return _tree_holds(self.tree, s)


def _tree_holds(t, s: int) -> bool:
    op = t[0]
    if op == "leaf":
        mask, good = t[1]
        return (s & mask) in good
    if op == "not":
        return not _tree_holds(t[1], s)
    if op == "and":
        return all(_tree_holds(x, s) for x in t[1])
    return any(_tree_holds(x, s) for x in t[1])


def _tree_mask(t) -> int:
    if t[0] == "leaf":
        return t[1][0]
    if t[0] == "not":
        return _tree_mask(t[1])
    out = 0
    for x in t[1]:
        out |= _tree_mask(x)
    return out


def _without(e, hits: dict):
    """``e`` with the nodes whose ids are in ``hits`` replaced by ``true`` (for finding the
    slots that the rest of ``e`` reads)."""
    if id(e) in hits:
        return _TRUE
    if isinstance(e, tuple):
        return tuple(_without(x, hits) for x in e)
    names = node_fields(e)
    if names is None:
        return e
    changed = {}
    for name in names:
        v = getattr(e, name)
        w = _without(v, hits)
        if w is not v:
            changed[name] = w
    return replace(e, **changed) if changed else e


def _bound_names(e) -> set:
    """Every name that some binder inside ``e`` binds (quantifiers, comprehensions, lets)."""
    out = set()
    for x in walk(e):
        if isinstance(x, N.LetE):
            out.add(x.name)
        v = getattr(x, "var", None)
        if isinstance(v, str) and not isinstance(x, (N.VarRef, N.Target)):
            out.add(v)
        for pair in getattr(x, "vars", None) or ():
            if isinstance(pair, tuple) and pair and isinstance(pair[0], str):
                out.add(pair[0])
    return out


def _locals(e) -> set:
    return {x.name for x in walk(e) if isinstance(x, N.Local)}
