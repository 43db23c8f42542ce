"""Whole-scenario checks of SPEC §1 that a single field cannot express.

Each check raises a ``ScenarioError`` naming the field path, e.g.
``concessions[3].party``; the positive-cycle check reports the ids of the
precedence rules on the cycle.

One piece (about 400 lines): every whole-scenario check of SPEC §1 and §5.8,
in the order their messages are reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from models.errors import ScenarioError
from models.rules import (
    Exposure,
    PhaseBalance,
    Precedence,
)
from models.scenario import Concession, Scenario


def _dupes(items: Sequence[Any], path: str) -> None:
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        if item.id in seen:
            raise ScenarioError(
                f"duplicate id (already used by {path}[{seen[item.id]}])",
                path=f"{path}[{i}].id", value=item.id,
            )
        seen[item.id] = i


def _ref(value: str, known: Iterable[str], path: str, what: str) -> None:
    if value not in known:
        raise ScenarioError(f"unknown {what}", path=path, value=value)


def validate_semantics(sc: Scenario) -> None:
    parties = set(sc.party_ids)
    _dupes(sc.parties, "parties")
    _dupes(sc.phases, "phases")
    _dupes(sc.resources, "resources")
    _dupes(sc.concessions, "concessions")
    _dupes(sc.rules, "rules")
    phase_ids = {p.id for p in sc.effective_phases}
    capacity = {r.id: r.capacity for r in sc.resources}
    by_id = {c.id: c for c in sc.concessions}
    cids = set(by_id)

    if "none" in sc.verification_methods:
        raise ScenarioError("the method 'none' cannot be overridden",
                            path="verification_methods.none")

    for k, ph in enumerate(sc.phases):
        if ph.max_length is not None and ph.min_length > ph.max_length:
            raise ScenarioError(f"min_length {ph.min_length} > max_length {ph.max_length}",
                                path=f"phases[{k}]")
        if ph.min_length > sc.horizon:
            raise ScenarioError(f"min_length exceeds the horizon {sc.horizon}",
                                path=f"phases[{k}].min_length", value=ph.min_length)

    for i, c in enumerate(sc.concessions):
        _check_concession(sc, i, c, parties, phase_ids, capacity)

    for j, rule in enumerate(sc.rules):
        base = f"rules[{j}]"
        for fld, cid in rule.ref_fields():
            _ref(cid, cids, f"{base}.{fld}", "concession")
        if isinstance(rule, Precedence):
            if rule.max_lag is not None and rule.min_lag > rule.max_lag:
                raise ScenarioError(f"min_lag {rule.min_lag} > max_lag {rule.max_lag}", path=base)
            if rule.from_ == "verified" and by_id[rule.before].verification == "none":
                raise ScenarioError(
                    f"from: verified, but '{rule.before}' has verification: none "
                    "(it is never verified)", path=f"{base}.from", value="verified")
        elif isinstance(rule, (Exposure, PhaseBalance)):
            for n, pid in enumerate(rule.parties or []):
                _ref(pid, parties, f"{base}.parties[{n}]", "party")

    _check_v11(sc, parties, by_id)

    for t, term in enumerate(sc.objective.terms):
        for n, pid in enumerate(term.parties or []):
            _ref(pid, parties, f"objective.terms[{t}].parties[{n}]", "party")

    if sc.observed is not None:
        for n, item in enumerate(sc.observed.schedule):
            base = f"observed.schedule[{n}]"
            _ref(item.id, cids, f"{base}.id", "concession")
            if item.end < item.start:
                raise ScenarioError(f"end {item.end} is before start {item.start}", path=base)
        _dupes(sc.observed.schedule, "observed.schedule")

    cycle = positive_cycle(sc)
    if cycle:
        raise ScenarioError(
            "precedence rules form a cycle that can never hold: " + " -> ".join(cycle),
            path="rules", rules=cycle,
        )


def _check_concession(sc: Scenario, i: int, c: Concession, parties: set[str],
                      phase_ids: set[str], capacity: dict[str, int]) -> None:
    base = f"concessions[{i}]"
    _ref(c.party, parties, f"{base}.party", "party")
    dmin, dmax = c.min_duration, c.max_duration
    if dmin > dmax:
        raise ScenarioError(f"min {dmin} > max {dmax}", path=f"{base}.duration")
    # The horizon is a demand like any other (a planner shortens it and asks
    # *why* nothing fits): a window that only the horizon closes is left to
    # the solver and its conflict explanation. A concession's own window that
    # cannot hold its shortest duration is a mistake in the file.
    latest = min(c.latest_end, sc.horizon) if c.latest_end is not None else sc.horizon
    if c.latest_end is not None and c.earliest_start + dmin > c.latest_end:
        raise ScenarioError(
            f"earliest_start {c.earliest_start} + minimum duration {dmin} > "
            f"latest_end {c.latest_end}", path=base)
    if c.start is not None:
        hi = latest - dmin
        if not c.earliest_start <= c.start <= hi:
            raise ScenarioError(
                f"pinned start outside [earliest_start, latest_end - min duration] = "
                f"[{c.earliest_start}, {hi}]", path=f"{base}.start", value=c.start)
        if c.start >= sc.horizon:
            raise ScenarioError(f"pinned start must be below the horizon {sc.horizon}",
                                path=f"{base}.start", value=c.start)
    for n, ph in enumerate(c.phases or []):
        _ref(ph, phase_ids, f"{base}.phases[{n}]", "phase")
    if c.phases is not None and not c.phases:
        raise ScenarioError("an empty list of allowed phases leaves nowhere to start",
                            path=f"{base}.phases")
    for rid, amount in c.uses.items():
        _ref(rid, capacity, f"{base}.uses.{rid}", "resource")
        if amount > capacity[rid]:
            raise ScenarioError(f"uses more than the capacity {capacity[rid]} of '{rid}'",
                                path=f"{base}.uses.{rid}", value=amount)
    for fld in ("value", "credit"):
        mapping = getattr(c, fld)
        if isinstance(mapping, dict):
            for pid in mapping:
                _ref(pid, parties, f"{base}.{fld}.{pid}", "party")
                if pid == c.party:
                    raise ScenarioError(f"names the conceding party '{pid}' itself",
                                        path=f"{base}.{fld}.{pid}", value=mapping[pid])
    if c.verification == "none":
        if c.verification_lag is not None:
            raise ScenarioError("verification_lag overrides the method 'none' (never verified)",
                                path=f"{base}.verification_lag", value=c.verification_lag)
        if c.credit is not None:
            raise ScenarioError("credit overrides the method 'none' (never verified, no credit)",
                                path=f"{base}.credit", value=c.credit)


# --------------------------------------------------------------------------
# Positive cycles in the temporal network
def _lag(sc: Scenario, c: Concession) -> int:
    if c.verification_lag is not None:
        return c.verification_lag
    over = sc.verification_methods.get(c.verification)
    if over is not None and over.lag is not None:
        return over.lag
    from models.scenario import DEFAULT_METHODS

    return DEFAULT_METHODS[c.verification][1] or 0


def positive_cycle(sc: Scenario) -> list[str]:
    """Rule ids on a positive-weight cycle among required concessions, or [].

    Nodes are (concession, start|end|verified); a positive cycle means some
    point would have to come strictly after itself. Duration and verification
    edges alone can never form one, so only strongly connected parts of the
    precedence graph are searched (Bellman-Ford longest paths).
    """
    required = {c.id: c for c in sc.concessions if not c.optional}
    edges: list[tuple[tuple[str, str], tuple[str, str], int, str | None]] = []
    for c in required.values():
        edges.append(((c.id, "start"), (c.id, "end"), c.min_duration, None))
        edges.append(((c.id, "end"), (c.id, "start"), -c.max_duration, None))
        if c.verification != "none":
            lag = _lag(sc, c)
            edges.append(((c.id, "end"), (c.id, "verified"), lag, None))
            edges.append(((c.id, "verified"), (c.id, "end"), -lag, None))
    has_prec = False
    for r in sc.rules:
        if isinstance(r, Precedence) and r.enabled and r.before in required and r.after in required:
            a, b = (r.before, r.from_), (r.after, r.to)
            edges.append((a, b, r.min_lag, r.id))
            if r.max_lag is not None:
                edges.append((b, a, -r.max_lag, r.id))
            has_prec = True
    if not has_prec:
        return []
    nodes = sorted({e[0] for e in edges} | {e[1] for e in edges})
    index = {n: k for k, n in enumerate(nodes)}
    n = len(nodes)
    adj: list[list[tuple[int, int, str | None]]] = [[] for _ in range(n)]
    for src, dst, w, rid in edges:
        adj[index[src]].append((index[dst], w, rid))
    comp = _scc(n, adj)
    # Longest-path Bellman-Ford (queue based) restricted to edges inside an SCC.
    dist = [0] * n
    pred: list[tuple[int, str | None] | None] = [None] * n
    count = [0] * n
    from collections import deque

    queue = deque(range(n))
    inq = [True] * n
    relaxed = 0
    while queue:
        u = queue.popleft()
        inq[u] = False
        for v, w, rid in adj[u]:
            if comp[u] != comp[v]:
                continue
            if dist[u] + w > dist[v]:
                dist[v] = dist[u] + w
                pred[v] = (u, rid)
                count[v] += 1
                if count[v] > n:
                    return _extract_cycle(v, pred, n)
                relaxed += 1
                if relaxed % n == 0:
                    # Waiting for a node to be relaxed n times costs O(V * E) on
                    # large networks (minutes for 50,000 rules); a cycle among the
                    # predecessor links is always a positive one and shows up early.
                    on_cycle = _predecessor_cycle(pred, n)
                    if on_cycle is not None:
                        return _extract_cycle(on_cycle, pred, n)
                if not inq[v]:
                    inq[v] = True
                    queue.append(v)
    return []


def _predecessor_cycle(pred: list[tuple[int, str | None] | None], n: int) -> int | None:
    """A node on a cycle of the predecessor links, or None (linear time)."""
    state = [0] * n     # 0 unseen, 1 on the current walk, 2 finished
    for root in range(n):
        walk: list[int] = []
        x: int | None = root
        while x is not None and state[x] == 0:
            state[x] = 1
            walk.append(x)
            p = pred[x]
            x = p[0] if p is not None else None
        if x is not None and state[x] == 1:
            return x
        for y in walk:
            state[y] = 2
    return None


def _extract_cycle(v: int, pred: list[tuple[int, str | None] | None], n: int) -> list[str]:
    for _ in range(n):  # walk back far enough to land on the cycle itself
        p = pred[v]
        assert p is not None
        v = p[0]
    start, rules, cur = v, [], v
    while True:
        p = pred[cur]
        assert p is not None
        if p[1] is not None:
            rules.append(p[1])
        cur = p[0]
        if cur == start:
            break
    rules.reverse()
    seen: list[str] = []
    for r in rules:
        if r not in seen:
            seen.append(r)
    return seen


def _scc(n: int, adj: list[list[tuple[int, int, str | None]]]) -> list[int]:
    """Tarjan's strongly connected components, iterative (deep graphs are common)."""
    index = [-1] * n
    low = [0] * n
    on = [False] * n
    comp = [-1] * n
    stack: list[int] = []
    counter = 0
    ncomp = 0
    for root in range(n):
        if index[root] != -1:
            continue
        work = [(root, 0)]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on[root] = True
        while work:
            u, i = work[-1]
            if i < len(adj[u]):
                work[-1] = (u, i + 1)
                v = adj[u][i][0]
                if index[v] == -1:
                    index[v] = low[v] = counter
                    counter += 1
                    stack.append(v)
                    on[v] = True
                    work.append((v, 0))
                elif on[v]:
                    low[u] = min(low[u], index[v])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[u])
                if low[u] == index[u]:
                    while True:
                        w = stack.pop()
                        on[w] = False
                        comp[w] = ncomp
                        if w == u:
                            break
                    ncomp += 1
    return comp


# --------------------------------------------------------------------------
# v1.1 (SPEC §5.8)
def _check_v11(sc: Scenario, parties: set[str], by_id: dict[str, Concession]) -> None:
    if sc.principals is not None:
        if not sc.principals:
            raise ScenarioError("principals must name at least one party (or be left out)",
                                path="principals", value=[])
        seen: set[str] = set()
        for n, pid in enumerate(sc.principals):
            _ref(pid, parties, f"principals[{n}]", "party")
            if pid in seen:
                raise ScenarioError("listed twice", path=f"principals[{n}]", value=pid)
            seen.add(pid)
    for i, c in enumerate(sc.concessions):
        if c.owner is not None:
            _ref(c.owner, parties, f"concessions[{i}].owner", "party")
    for j, rule in enumerate(sc.rules):
        if rule.owner is not None:
            _ref(rule.owner, parties, f"rules[{j}].owner", "party")
    if sc.progress is not None:
        _check_progress(sc, by_id)
    if sc.uncertainty is not None:
        _check_uncertainty(sc, parties, by_id)


def _check_progress(sc: Scenario, by_id: dict[str, Concession]) -> None:
    pr = sc.progress
    assert pr is not None
    if pr.as_of > sc.horizon:
        raise ScenarioError(f"as_of must lie in [0, horizon {sc.horizon}]",
                            path="progress.as_of", value=pr.as_of)
    seen: dict[str, int] = {}
    for k, step in enumerate(pr.steps):
        base = f"progress.steps[{k}]"
        _ref(step.id, by_id, f"{base}.id", "concession")
        if step.id in seen:
            raise ScenarioError(f"listed twice (already progress.steps[{seen[step.id]}])",
                                path=f"{base}.id", value=step.id)
        seen[step.id] = k
        check_step_times(step, pr.as_of, base)


def check_step_times(step: Any, as_of: int, base: str, what: str = "as_of") -> None:
    """A progress step's times against the present (also used for ``--as-of``)."""
    if step.end is None:
        if step.start >= as_of:
            raise ScenarioError(f"a step under way must have started before {what} {as_of}",
                                path=f"{base}.start", value=step.start)
        if step.verified is not None:
            raise ScenarioError("a step under way cannot have been verified (give its end)",
                                path=f"{base}.verified", value=step.verified)
        if step.reversed is not None:
            raise ScenarioError("a step under way cannot have been reversed (give its end)",
                                path=f"{base}.reversed", value=step.reversed)
        return
    if step.end < step.start:
        raise ScenarioError(f"end is before start {step.start}", path=f"{base}.end",
                            value=step.end)
    if step.end > as_of:
        raise ScenarioError(f"end is after {what} {as_of}: record it as under way (start only)",
                            path=f"{base}.end", value=step.end)
    if step.verified is not None and step.verified is not False and \
            not step.end <= step.verified <= as_of:
        raise ScenarioError(f"verified must lie in [end {step.end}, {what} {as_of}] "
                            "(or be false: refused)", path=f"{base}.verified",
                            value=step.verified)
    if step.reversed is not None and not step.start < step.reversed <= as_of:
        raise ScenarioError(f"reversed must lie in (start {step.start}, {what} {as_of}]",
                            path=f"{base}.reversed", value=step.reversed)


def _check_uncertainty(sc: Scenario, parties: set[str], by_id: dict[str, Concession]) -> None:
    u = sc.uncertainty
    assert u is not None
    categories = {c.category for c in sc.concessions}
    for pid in u.parties:
        _ref(pid, parties, f"uncertainty.parties.{pid}", "party")
    for cat in u.categories:
        _ref(cat, categories, f"uncertainty.categories.{cat}", "category")
    for cid in u.concessions:
        _ref(cid, by_id, f"uncertainty.concessions.{cid}", "concession")
