"""Minute series of the 11 FeatureIndex v1 features: reading, the model-input rule, metrics.

Shared by generate_synthetic.py, train.py, export_onnx.py and evaluate.py so that the training
data format and the rule that turns a history into a model window exist once on the Python side
(the C side has its own implementation of the same rule, see DESIGN.md "Model input from the
history"):

  * a window is the last W closed minutes, oldest first, [W x 11];
  * missing values are carried forward from the previous minute; a feature never seen is 0;
  * a history of W/2 <= n < W minutes is left-padded by repeating its oldest minute;
  * a gap of at most max(1, W//4) minutes is treated as missing minutes; a longer gap restarts
    the history ("W/2" means max(1, W//2)).

Everything here is plain numpy; torch is not needed to read data.
"""

import csv
import datetime
import json
import math
import os

import numpy as np

FEATURES = (
    "cpu_usage",
    "heap_usage",
    "event_loop_lag_ms",
    "latency_ms",
    "invocations",
    "gc_pause_ms",
    "latency_p50",
    "latency_p95",
    "latency_p99",
    "error_rate",
    "event_count",
)
N_FEATURES = len(FEATURES)
SCHEMA_VERSION = 1
CPU = FEATURES.index("cpu_usage")
INVOCATIONS = FEATURES.index("invocations")
MINUTE_MS = 60_000

# The simple forecasts a mixture model (aether_model.AetherTSMixer) weighs: the last minute; the
# means of the last 3, 10 and W minutes; the last one-minute change continued for at most 2 steps
# or for every step; the mean change of the last 5 minutes continued for every step; the
# exponentially weighted level of the window with alpha 0.3 or 0.5 (a noisy level's best guess).
SIMPLE_FORECASTS = ("last", "mean3", "mean10", "meanW", "drift1x2", "drift1", "drift5",
                    "ewm0.3", "ewm0.5")


class DataError(Exception):
    """Bad input data; the message names the file and, where known, the line, column and value."""


class Series:
    """A minute series: sorted, unique minute timestamps (Unix ms) and values with NaN = missing."""

    def __init__(self, timestamps, values, source):
        self.timestamps = np.asarray(timestamps, dtype=np.int64)  # [N]
        self.values = np.asarray(values, dtype=np.float64)  # [N, 11], NaN = missing
        self.source = source
        self.duplicates = 0

    def __len__(self):
        return len(self.timestamps)

    def span_text(self):
        """'2026-01-05T00:00Z..2026-01-06T23:59Z' (UTC), or 'empty'."""
        if len(self) == 0:
            return "empty"
        fmt = "%Y-%m-%dT%H:%MZ"
        first = datetime.datetime.fromtimestamp(self.timestamps[0] / 1000, datetime.timezone.utc)
        last = datetime.datetime.fromtimestamp(self.timestamps[-1] / 1000, datetime.timezone.utc)
        return f"{first.strftime(fmt)}..{last.strftime(fmt)}"

    def describe(self):
        """One line for the model's aether.train_data: source, rows, span."""
        return f"{os.path.basename(self.source)}, {len(self)} rows, {self.span_text()}"


# ---------------------------------------------------------------------------------------------
# Reading


def _parse_timestamp(text, where):
    """Unix ms (integer or decimal) or ISO 8601; returns Unix ms as int."""
    text = text.strip()
    if not text:
        raise DataError(f"{where}: timestamp is empty")
    try:
        value = float(text)
    except ValueError:
        try:
            dt = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise DataError(
                f"{where}: timestamp '{text}' is neither Unix milliseconds nor ISO 8601"
            ) from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=datetime.timezone.utc)
        return int(round(dt.timestamp() * 1000))
    if not math.isfinite(value) or value < 0:
        raise DataError(f"{where}: timestamp '{text}' is not a valid Unix time in milliseconds")
    return int(round(value))


def _check_value(value, where, name, shown):
    if not math.isfinite(value):
        raise DataError(f"{where}: column '{name}': value '{shown}' is not finite")
    if value < 0:
        raise DataError(f"{where}: column '{name}': value '{shown}' is negative "
                        "(every feature is a non-negative quantity)")
    return value


def _parse_value(text, where, name):
    text = text.strip()
    if text == "" or text.lower() == "nan":
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{where}: column '{name}': cannot parse '{text}' as a number") from None
    return _check_value(value, where, name, text)


def _read_csv(path, text):
    reader = csv.reader(text.splitlines())
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(f"{path}: file is empty (expected a header line "
                        f"'timestamp,{','.join(FEATURES)}')") from None
    header = [h.strip() for h in header]
    if not header or header[0] != "timestamp":
        raise DataError(f"{path} line 1: first column must be 'timestamp', found "
                        f"'{header[0] if header else ''}' (expected header "
                        f"'timestamp,{','.join(FEATURES)}')")
    missing = [f for f in FEATURES if f not in header]
    if missing:
        raise DataError(f"{path} line 1: missing column(s): {', '.join(missing)} "
                        f"(expected header 'timestamp,{','.join(FEATURES)}')")
    columns = [header.index(f) for f in FEATURES]
    timestamps, rows = [], []
    for lineno, cells in enumerate(reader, start=2):
        if not cells or all(not c.strip() for c in cells):
            continue
        where = f"{path} line {lineno}"
        if len(cells) != len(header):
            raise DataError(f"{where}: {len(cells)} cells, the header has {len(header)}")
        timestamps.append(_parse_timestamp(cells[0], where))
        rows.append([_parse_value(cells[c], where, FEATURES[i]) for i, c in enumerate(columns)])
    return timestamps, rows


def _json_documents(path, text):
    """Yields every JSON document of the file: a collection cron may append several exports."""
    decoder = json.JSONDecoder()
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return
        try:
            doc, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            raise DataError(f"{path} line {e.lineno} column {e.colno}: invalid JSON: {e.msg}") from None
        yield doc


def _read_json(path, text):
    timestamps, rows = [], []
    for n, doc in enumerate(_json_documents(path, text), start=1):
        where = f"{path} document {n}"
        if not isinstance(doc, dict):
            raise DataError(f"{where}: expected an object with 'schemaVersion', 'features', 'rows'")
        version = doc.get("schemaVersion")
        if version != SCHEMA_VERSION:
            raise DataError(f"{where}: schemaVersion is {version!r}, this trainer reads "
                            f"schema {SCHEMA_VERSION} (FeatureIndex v1)")
        features = doc.get("features")
        if features != list(FEATURES):
            raise DataError(f"{where}: 'features' must be {list(FEATURES)}, found {features!r}")
        doc_rows = doc.get("rows")
        if not isinstance(doc_rows, list):
            raise DataError(f"{where}: 'rows' must be an array")
        for i, row in enumerate(doc_rows):
            at = f"{where} rows[{i}]"
            if not isinstance(row, dict) or "timestamp" not in row or "values" not in row:
                raise DataError(f"{at}: expected {{\"timestamp\": ms, \"values\": [11 numbers]}}")
            ts = row["timestamp"]
            if isinstance(ts, bool) or not isinstance(ts, (int, float, str)):
                raise DataError(f"{at}: timestamp {ts!r} is not Unix ms or ISO 8601")
            timestamps.append(_parse_timestamp(str(ts), at))
            values = row["values"]
            if not isinstance(values, list) or len(values) != N_FEATURES:
                raise DataError(f"{at}: 'values' must be an array of {N_FEATURES} numbers or null")
            parsed = []
            for f, v in zip(FEATURES, values):
                if v is None:
                    parsed.append(math.nan)
                elif isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise DataError(f"{at}: '{f}': {v!r} is not a number or null")
                else:
                    parsed.append(_check_value(float(v), at, f, repr(v)))
            rows.append(parsed)
    return timestamps, rows


def read_series(path):
    """Reads a training-data CSV or JSON export (format by content). Raises DataError.

    Timestamps are rounded to the minute and sorted; for a minute given twice the later row wins
    (overlapping exports appended to one file are normal)."""
    try:
        with open(path, "r", encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: cannot read: {e}") from None
    if text.lstrip().startswith("{"):
        timestamps, rows = _read_json(path, text)
    else:
        timestamps, rows = _read_csv(path, text)
    if not rows:
        raise DataError(f"{path}: no data rows")
    minutes = np.round(np.asarray(timestamps, dtype=np.float64) / MINUTE_MS).astype(np.int64)
    values = np.asarray(rows, dtype=np.float64)
    # Stable sort, then keep the last row of each minute.
    order = np.argsort(minutes, kind="stable")
    minutes, values = minutes[order], values[order]
    last_of_minute = np.append(minutes[1:] != minutes[:-1], True)
    series = Series(minutes[last_of_minute] * MINUTE_MS, values[last_of_minute], path)
    series.duplicates = int(len(minutes) - last_of_minute.sum())
    return series


def write_csv(path, timestamps, values, formats):
    """Writes the training-data CSV; formats[i] is a %-format for feature i, NaN -> empty cell."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("timestamp," + ",".join(FEATURES) + "\n")
        for ts, row in zip(timestamps, values):
            cells = ["" if math.isnan(v) else fmt % v for fmt, v in zip(formats, row)]
            f.write(f"{int(ts)}," + ",".join(cells) + "\n")


# ---------------------------------------------------------------------------------------------
# The model-input rule


def half_window(window):
    return max(1, window // 2)


def max_filled_gap(window):
    return max(1, window // 4)


class Prepared:
    """A series cut into continuous histories, ready for windows.

    filled: [N, 11] values with missing carried forward (never seen = 0), gap minutes inserted;
    raw: [N, 11] the same rows without carry-forward (NaN = missing), for targets;
    start: [N] index of the first row of the history each row belongs to."""

    def __init__(self, filled, raw, start):
        self.filled, self.raw, self.start = filled, raw, start


def prepare(series, window):
    """Applies the gap and carry-forward parts of the rule to a whole series."""
    minutes = series.timestamps // MINUTE_MS
    limit = max_filled_gap(window)
    raw_rows, starts = [], []
    start = 0
    for i in range(len(minutes)):
        if i > 0:
            gap = int(minutes[i] - minutes[i - 1] - 1)
            if gap > limit:
                start = len(raw_rows)  # too old to describe the present: restart the history
            elif gap > 0:
                for _ in range(gap):
                    raw_rows.append(np.full(N_FEATURES, np.nan))
                    starts.append(start)
        raw_rows.append(series.values[i])
        starts.append(start)
    raw = np.asarray(raw_rows, dtype=np.float64).reshape(-1, N_FEATURES)
    start_idx = np.asarray(starts, dtype=np.int64)
    filled = np.empty_like(raw)
    for i in range(len(raw)):
        if start_idx[i] == i:
            previous = np.zeros(N_FEATURES)
        else:
            previous = filled[i - 1]
        filled[i] = np.where(np.isnan(raw[i]), previous, raw[i])
    return Prepared(filled, raw, start_idx)


def window_indices(ends, history, window):
    """Row indices [len(ends), W] of windows ending at rows `ends` with `history` minutes
    available (history < W left-pads by repeating the oldest available minute)."""
    ends = np.asarray(ends, dtype=np.int64)[:, None]
    history = np.asarray(history, dtype=np.int64)[:, None]
    idx = ends - window + 1 + np.arange(window)[None, :]
    return np.maximum(idx, ends - history + 1)


def model_input(series, window):
    """The model input for the end of a series (what a node would feed now): float32 [W, 11],
    or None when the current history is shorter than W/2 minutes."""
    prep = prepare(series, window)
    if len(prep.filled) == 0:
        return None
    end = len(prep.filled) - 1
    history = end - prep.start[end] + 1
    if history < half_window(window):
        return None
    idx = window_indices([end], [min(history, window)], window)[0]
    return prep.filled[idx].astype(np.float32)


class Samples:
    """Every (window, next H minutes) pair of a prepared series, in time order.

    ends: [S] last input row; history: [S] minutes available (<= W); x: [S, W, 11] float32
    inputs; y: [S, H, 11] float32 targets with NaN where the target minute is missing."""

    def __init__(self, ends, history, x, y):
        self.ends, self.history, self.x, self.y = ends, history, x, y

    def __len__(self):
        return len(self.ends)

    def subset(self, sel):
        return Samples(self.ends[sel], self.history[sel], self.x[sel], self.y[sel])


def make_samples(prep, window, horizon, limit=0):
    """All windows with at least W/2 minutes of history and H following minutes in the same
    history, at least one of them not missing; with limit > 0 at most that many of them, evenly
    spaced in time (a long series then does not crowd out the others of a corpus)."""
    n = len(prep.filled)
    if n == 0:
        return Samples(np.zeros(0, np.int64), np.zeros(0, np.int64),
                       np.zeros((0, window, N_FEATURES), np.float32),
                       np.zeros((0, horizon, N_FEATURES), np.float32))
    ends = np.arange(n - horizon)
    history = ends - prep.start[ends] + 1
    same_history = prep.start[np.minimum(ends + horizon, n - 1)] == prep.start[ends]
    keep = (history >= half_window(window)) & same_history
    ends, history = ends[keep], np.minimum(history[keep], window)
    target_idx = ends[:, None] + 1 + np.arange(horizon)[None, :]
    y = prep.raw[target_idx] if len(ends) else np.zeros((0, horizon, N_FEATURES))
    has_target = ~np.all(np.isnan(y), axis=(1, 2)) if len(ends) else np.zeros(0, bool)
    ends, history, y = ends[has_target], history[has_target], y[has_target]
    if 0 < limit < len(ends):
        pick = np.unique(np.round(np.linspace(0, len(ends) - 1, limit)).astype(np.int64))
        ends, history, y = ends[pick], history[pick], y[pick]
    x = prep.filled[window_indices(ends, history, window)] if len(ends) else \
        np.zeros((0, window, N_FEATURES))
    return Samples(ends, history, x.astype(np.float32), y.astype(np.float32))


def concat_samples(parts):
    """The samples of several series, one after the other."""
    return Samples(*(np.concatenate([getattr(p, k) for p in parts])
                     for k in ("ends", "history", "x", "y")))


def corpus_files(paths, exclude=()):
    """The data files of paths (files as given, folders: their *.csv sorted by name), without
    those whose name starts with one of the exclude prefixes. Raises DataError."""
    files = []
    for path in paths:
        if os.path.isdir(path):
            names = sorted(n for n in os.listdir(path) if n.endswith(".csv"))
            if not names:
                raise DataError(f"{path}: folder holds no .csv file")
            files += [os.path.join(path, n) for n in names]
        else:
            files.append(path)
    kept = [f for f in files if not any(os.path.basename(f).startswith(e) for e in exclude)]
    if not kept:
        raise DataError(f"{', '.join(paths)}: no data file left after excluding "
                        f"{', '.join(exclude)}")
    return kept


def corpus_summary(used):
    """'synthetic 15, nasa 3, ...': series per family (the file name up to its first '-')."""
    counts = {}
    for data in used:
        family = os.path.basename(data.source).split("-")[0]
        counts[family] = counts.get(family, 0) + 1
    return ", ".join(f"{k} {v}" for k, v in counts.items())


# ---------------------------------------------------------------------------------------------
# Metrics (DESIGN.md "Confidence")


def persistence(x, horizon):
    """The last input minute repeated H times: [S, H, 11]."""
    return np.repeat(x[:, -1:, :], horizon, axis=1)


def errors(pred, y):
    """Per-feature sums over the non-missing targets: abs error, abs actual, count."""
    mask = ~np.isnan(y)
    diff = np.where(mask, np.abs(pred.astype(np.float64) - np.nan_to_num(y)), 0.0)
    return (diff.sum(axis=(0, 1)), np.where(mask, np.abs(np.nan_to_num(y)), 0.0).sum(axis=(0, 1)),
            mask.sum(axis=(0, 1)))


def wape(abs_err, abs_actual):
    """Sum|pred - actual| / Sum|actual| (0 when both are 0, 1 when only the actual sum is 0)."""
    if abs_actual > 0:
        return float(abs_err / abs_actual)
    return 0.0 if abs_err == 0 else 1.0


class Comparison:
    """Model against persistence on the same samples, in the terms the node uses."""

    def __init__(self, pred, persist, y):
        self.err_model, self.actual, self.count = errors(pred, y)
        self.err_persist, _, _ = errors(persist, y)

    def mae(self, f, persist=False):
        err = self.err_persist if persist else self.err_model
        return float(err[f] / self.count[f]) if self.count[f] else math.nan

    def wape(self, f, persist=False):
        err = self.err_persist if persist else self.err_model
        return wape(err[f], self.actual[f])

    def val_wape(self, persist=False):
        """aether.val_wape: (WAPE_cpu + WAPE_invocations) / 2."""
        return (self.wape(CPU, persist) + self.wape(INVOCATIONS, persist)) / 2

    def skill(self):
        """aether.val_skill: 1 - MAE_model / MAE_persistence, with both errors taken over
        cpu_usage and invocations relative to their actual level (the two features the
        autoscaler acts on), so the two units can be added."""
        persist = self.val_wape(persist=True)
        if persist == 0:
            return 0.0
        return 1.0 - self.val_wape() / persist

    def table(self):
        """Lines: feature, MAE model, MAE persistence, ratio."""
        lines = [f"  {'feature':<18} {'MAE model':>12} {'MAE persist':>12} {'ratio':>7}"]
        for f, name in enumerate(FEATURES):
            m, p = self.mae(f), self.mae(f, persist=True)
            ratio = m / p if p and p > 0 else math.nan
            lines.append(f"  {name:<18} {m:12.6g} {p:12.6g} {ratio:7.3f}")
        lines.append(f"  WAPE (cpu+invocations)/2: model {self.val_wape():.4f}, "
                     f"persistence {self.val_wape(persist=True):.4f}, skill {self.skill():+.4f}")
        return lines
