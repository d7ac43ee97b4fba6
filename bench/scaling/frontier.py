"""Equal-SLO comparison of scaling controllers: the pure arithmetic of the scaling benchmark.

A run is a point (SLO-violation minutes, instance-minutes). A controller swept over its operating
knob gives a set of points; its cost-vs-SLO frontier is the points no other point beats on both.
The saving of a point at equal SLO is 1 - cost / (the cheapest baseline point with no more
SLO-violation minutes); None when no baseline point is that good, so a controller is never
credited for an SLO the baseline was not asked to reach.
"""


def frontier(points):
    """The Pareto frontier of points (dicts with 'slo' and 'cost'), by ascending SLO minutes:
    a point stays when no other has no more SLO minutes and a lower cost, or fewer SLO minutes
    and no higher cost."""
    out = []
    for p in sorted(points, key=lambda q: (q["slo"], q["cost"])):
        if not out or p["cost"] < out[-1]["cost"]:
            out.append(p)
    return out


def cheapest_within(points, slo):
    """The cheapest point with at most slo SLO-violation minutes, or None."""
    ok = [p for p in points if p["slo"] <= slo]
    return min(ok, key=lambda p: (p["cost"], p["slo"])) if ok else None


def safest(points):
    """The point with the fewest SLO-violation minutes, then the cheapest."""
    return min(points, key=lambda p: (p["slo"], p["cost"]))


def saving_at_equal_slo(point, baseline):
    """(saving, matched baseline point): 1 - cost / cost of the cheapest baseline point with no
    more SLO minutes than point; (None, None) when the baseline has no such point."""
    b = cheapest_within(baseline, point["slo"])
    if b is None or b["cost"] <= 0:
        return None, None
    return 1.0 - point["cost"] / b["cost"], b


def saving_bound(point, baseline):
    """For a point safer than every baseline point (no equal-SLO match): 1 - cost / cost of the
    baseline's safest point (fewest SLO minutes, then cheapest), a lower bound of the saving at
    equal SLO as long as the baseline gets no cheaper by getting safer (true of a target sweep:
    a lower target holds more instances). None when the point is matched or not safer."""
    if not baseline or saving_at_equal_slo(point, baseline)[0] is not None:
        return None
    best = safest(baseline)
    if point["slo"] >= best["slo"] or best["cost"] <= 0:
        return None
    return 1.0 - point["cost"] / best["cost"]


def dominates(a, b):
    """a is no worse than b on both SLO minutes and cost, and better on one."""
    return (a["slo"] <= b["slo"] and a["cost"] <= b["cost"] and
            (a["slo"] < b["slo"] or a["cost"] < b["cost"]))


def choose(points, baseline):
    """The operating point a protocol picks on a validation slice: the largest saving at equal
    SLO against the baseline's sweep; ties go to fewer SLO minutes, then lower cost. When no
    point can be matched, the point with the fewest SLO minutes (then the cheapest)."""
    scored = [(saving_at_equal_slo(p, baseline)[0], p) for p in points]
    matched = [(s, p) for s, p in scored if s is not None]
    if matched:
        return max(matched, key=lambda sp: (sp[0], -sp[1]["slo"], -sp[1]["cost"]))[1]
    return safest(points)


def actions_ratio(actions, reference_actions):
    """actions as a multiple of a reference point's; a reference with none allows none."""
    if reference_actions:
        return actions / reference_actions
    return 0.0 if actions == 0 else float("inf")


def churn_reference(point, baseline):
    """The baseline point whose scaling actions point's are held against: its equal-SLO match,
    or the baseline's safest point when none is as safe; None for an empty baseline."""
    match = saving_at_equal_slo(point, baseline)[1]
    return match or (safest(baseline) if baseline else None)


def within_churn(points, baseline, max_ratio):
    """The points (dicts with 'actions', as the baseline's) whose scaling actions are at most
    max_ratio times their churn reference's."""
    out = []
    for p in points:
        ref = churn_reference(p, baseline)
        if ref is not None and actions_ratio(p["actions"], ref["actions"]) <= max_ratio:
            out.append(p)
    return out


def value_over(best, others):
    """best's saving minus the largest of others' savings (None entries left out); None when
    best's saving or all of the others are None."""
    rest = [s for s in others if s is not None]
    if best is None or not rest:
        return None
    return best - max(rest)


def cost_on_frontier(points, slo):
    """The cost of points' frontier at slo SLO-violation minutes: linear between the two frontier
    points around slo (the operating-point sweep read as a curve), a point's own cost at its SLO;
    beyond the least safe point the cheapest point with no more SLO minutes (the sweep gets no
    cheaper there); None when slo is safer than every point (no extrapolation)."""
    f = frontier(points)
    if not f or slo < f[0]["slo"]:
        return None
    for lo, hi in zip(f, f[1:]):
        if lo["slo"] <= slo <= hi["slo"]:
            w = (slo - lo["slo"]) / (hi["slo"] - lo["slo"])
            return lo["cost"] + w * (hi["cost"] - lo["cost"])
    return cheapest_within(f, slo)["cost"]


def value_against_frontier(point, sweep):
    """1 - point's cost / the cost of sweep's frontier at point's SLO: what point saves over the
    other path run as safe; None when sweep has no point that safe or a zero cost."""
    c = cost_on_frontier(sweep, point["slo"])
    if c is None or c <= 0:
        return None
    return 1.0 - point["cost"] / c


def model_value_ff(model, simples):
    """Model value, frontier against frontier. model and each of simples: dict(name, point (the
    validation-chosen point), sweep (the operating-point sweep on the same part)).
    forward = the model's point against each simple path's frontier at its SLO, the worst (the
    best simple path) kept; reverse = each simple path's point against the model's frontier: 1 - the model
    frontier's cost at the simple point's SLO / the simple point's cost, the worst kept. Each as (value, name of the simple path it is against); (None, None) when no
    simple path can be compared that way."""
    fwd = [(value_against_frontier(model["point"], s["sweep"]), s["name"]) for s in simples]
    rev = [(_saving_of_frontier(model["sweep"], s["point"]), s["name"]) for s in simples]
    return dict(forward=_worst(fwd), reverse=_worst(rev))


def _saving_of_frontier(sweep, point):
    """1 - the cost of sweep's frontier at point's SLO / point's cost; None when undefined."""
    c = cost_on_frontier(sweep, point["slo"])
    if c is None or point["cost"] <= 0:
        return None
    return 1.0 - c / point["cost"]


def _worst(pairs):
    ok = [p for p in pairs if p[0] is not None]
    return min(ok) if ok else (None, None)
