"""A few hours of history for a node's database, written the way the node stores it (schema 2,
docs/operations.md): minutes with a daily-like swing of load, the forecasts a forecaster would
have made for them (1..H minutes ahead, a few percent off), and the decisions of both tiers."""
import json
import math
import random
import sqlite3

from e2e_lib import FEATURES, MINUTE_INSERT

MINUTE = 60000


def load_at(i, base):
    """Invocations per minute at minute i: a slow swing with a burst in the middle."""
    swing = 1.0 + 0.5 * math.sin(2 * math.pi * i / 180.0)
    burst = 0.6 if 100 <= i < 115 else 0.0
    return base * (swing + burst)


def instances_for(load, per_instance):
    return max(1, math.ceil(load / per_instance))


def features(load, ready):
    per = load / max(1, ready)
    cpu = min(0.98, per / 6000.0)
    p95 = 20.0 + 60.0 * max(0.0, cpu - 0.6)
    return {"cpu_usage": cpu, "heap_usage": 0.3 + 0.1 * cpu, "event_loop_lag_ms": 0.5,
            "latency_ms": p95 * 0.6, "invocations": load, "gc_pause_ms": 0.0,
            "latency_p50": p95 * 0.5, "latency_p95": p95, "latency_p99": p95 * 1.4,
            "error_rate": 0.002 + (0.03 if cpu > 0.9 else 0.0), "event_count": load}


def seed(db_path, blueprint, minutes, end_start_ms, base, horizon, seed_value=1):
    """Writes `minutes` closed minutes ending with the one starting at end_start_ms, a forecast
    made at each minute start for the next `horizon` minutes, and the decisions. Returns the
    counts written: {"minutes", "forecast_steps", "reactive_changes", "ttm_holds"}."""
    rng = random.Random(seed_value)
    con = sqlite3.connect(db_path)
    start0 = end_start_ms - (minutes - 1) * MINUTE
    loads = [load_at(i, base) for i in range(minutes + horizon)]
    requested = 1
    n_fc = n_reactive = n_ttm = 0
    for i in range(minutes):
        ts = start0 + i * MINUTE
        want = instances_for(loads[i], 4500.0)
        if want != requested:  # the reactive tier follows the load, one step at a time
            step = 1 if want > requested else -1
            con.execute("INSERT INTO decisions (ts, blueprint, tier, action, from_n, to_n, reason,"
                        " inputs, result) VALUES (?,?,?,?,?,?,?,?,?)",
                        [ts + 1000, blueprint, "reactive", "scale_up" if step > 0 else "scale_down",
                         requested, requested + step,
                         "cpu_usage %.3f %s threshold" % (features(loads[i], requested)["cpu_usage"],
                                                          ">" if step > 0 else "<"),
                         json.dumps({"ready": requested, "requested": requested}),
                         "requested %d from the exec actuator" % (requested + step)])
            requested += step
            n_reactive += 1
        ready = max(1, requested - (1 if i % 37 == 0 else 0))
        v = features(loads[i], ready)
        vals = [v[f] for f in FEATURES]
        con.execute(MINUTE_INSERT,
                    [blueprint, ts] + vals + [60] * 11 + [60, float(ready), float(requested), 0])
        for h in range(1, horizon + 1):
            target = loads[i + h - 1] * (1 + rng.gauss(0, 0.03 * h))
            fv = features(target, ready)
            con.execute("INSERT OR REPLACE INTO forecasts VALUES (?,?,?,?,?,%s)"
                        % ",".join("?" * 11),
                        [blueprint, ts + (h - 1) * MINUTE, h, ts + 500, 0.9]
                        + [fv[f] for f in FEATURES])
            n_fc += 1
        if i % 10 == 0:  # a TTM recommendation every 10 minutes, holding a floor and ceiling
            peak = max(loads[i:i + horizon])
            floor = instances_for(peak, 4500.0)
            con.execute("INSERT INTO decisions (ts, blueprint, tier, action, from_n, to_n, reason,"
                        " inputs, result) VALUES (?,?,?,?,?,?,?,?,?)",
                        [ts + 600, blueprint, "ttm", "hold", requested, requested, "STABLE",
                         json.dumps({"confidence": 0.9, "floor": floor, "ceiling": floor + 1,
                                     "ready": ready}), "no action"])
            n_ttm += 1
    con.commit()
    con.close()
    return {"minutes": minutes, "forecast_steps": n_fc, "reactive_changes": n_reactive,
            "ttm_holds": n_ttm}
