"""Training data for the model verifier: every question the cart core asks, labelled from ground truth.

Generated sessions (`tools.sessiongen`) run through the real replay pipeline with a recording
wrapper around a driving verifier (the rule, or a trained model in a second round so that the
questions a model's own decisions lead to are seen too). Each `FitQuery` is logged with the units
it was asked about, then labelled from the session's truth:

- a placement question is a true fit when units of exactly those products (as many of each) went
  into the basket within `WINDOW_S` before the change began (the question's time less how long the
  basket moved before it settled: an item put in while the cart was pushed settles only later) and
  their true weights add up to the measured change within the scale's tolerance (`tolerance_g`);
- a removal question likewise, with units that came out;
- questions asked without units (a held change taken out again, a lifted item coming back) are
  logged but left unlabelled (label -1) and not trained on.

Needs only numpy and the repo (runs in the training venv or the cart's venv). `Matcher.fit` is
wrapped inside the worker processes only, to know which units a query was about.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from firmware.core.catalog import Catalog
from firmware.core.matching import Matcher
from firmware.core.verifier import FitQuery, RuleVerifier, Verifier
from firmware.core.weightbook import WeightBook
from firmware.replay import replay_trace
from firmware.verifier_model.features import N_FEATURES, query_features
from tools import bench_core
from tools.scoring import product_key
from tools.sessiongen.dataset import session_id, session_kinds, store_for_seed
from tools.sessiongen.session import generate_session

CARTS = 10  # sessions of one store are shared between this many carts, each with its weight book
WINDOW_S = 30.0  # a unit counts for a change that began at most this long after it went in (or out)
KIND_PLACE, KIND_REMOVE, KIND_GRAMS = 0, 1, 2
SESSION_KINDS = ("honest", "unscanned_item", "swap", "scan_not_placed", "scanned_twice")


def tolerance_g(true_g: float, noise_g: float) -> float:
    """How far a settled change may read from the true weight that moved: sample noise, creep,
    corner error and span error of a cart scale, generously."""
    return 4.0 + 3.0 * noise_g + 0.03 * true_g


@dataclass(frozen=True, slots=True)
class Asked:
    query: FitQuery
    keys: tuple[str, ...] | None  # product keys of the candidate units; None: asked without units
    t: float
    measured: bool  # a removal, against weights measured going in


class Recorder:
    """Wraps a verifier; keeps every query with the units the matcher was asking about."""

    def __init__(self, inner: Verifier) -> None:
        self.inner = inner
        self.name = getattr(inner, "name", "recorded")
        self.context: tuple[tuple[str, ...], float, bool] | None = None
        self.asked: list[Asked] = []

    def fit(self, query: FitQuery) -> float | None:
        ctx = self.context
        keys, t, measured = ctx if ctx is not None else (None, 0.0, False)
        self.asked.append(Asked(query, keys, t, measured))
        return self.inner.fit(query)


@contextlib.contextmanager
def matcher_context() -> Iterator[None]:
    """Make `Matcher.fit` tell a `Recorder` verifier which units and moment it is asking about."""
    original = Matcher.fit

    def fit(self: Matcher, units: list, grams: float, noise: float, t: float, *, measured: bool = False) -> Any:
        verifier = self.verifier
        if not isinstance(verifier, Recorder):
            return original(self, units, grams, noise, t, measured=measured)
        verifier.context = (tuple(u.key for u in units), t, measured)
        try:
            return original(self, units, grams, noise, t, measured=measured)
        finally:
            verifier.context = None

    Matcher.fit = fit  # type: ignore[method-assign]
    try:
        yield
    finally:
        Matcher.fit = original  # type: ignore[method-assign]


def label(asked: Asked, moves: dict[str, list[tuple[float, float | None, float]]]) -> int:
    """1 when the truth explains the query's change with exactly its candidate products; else 0."""
    if asked.keys is None:
        return -1
    need = Counter(asked.keys)
    options: list[list[float]] = []
    # the window runs back from when the basket started moving, not from when it came to rest: an item
    # put in while the cart was pushed settles a minute later and is still this change
    since = asked.t - max(0.0, asked.query.settle_s) - WINDOW_S
    for key, count in need.items():
        weights = [
            w
            for t_in, t_out, w in moves.get(key, [])
            if (t_out if asked.measured else t_in) is not None
            and since <= (t_out if asked.measured else t_in) <= asked.t + 0.5  # type: ignore[operator]
        ]
        if len(weights) < count:
            return 0
        sums = {round(sum(c), 1) for c in itertools.islice(itertools.combinations(weights, count), 200)}
        options.append(sorted(sums))
    measured = asked.query.measured_g
    for combo in itertools.islice(itertools.product(*options), 2000):
        total = sum(combo)
        if abs(total - measured) <= tolerance_g(total, asked.query.noise_g):
            return 1
    return 0


def truth_moves(truth: dict[str, Any]) -> dict[str, list[tuple[float, float | None, float]]]:
    moves: dict[str, list[tuple[float, float | None, float]]] = defaultdict(list)
    for unit in truth["units"]:
        moves[product_key(unit["code"])].append((unit["t_in"], unit["t_out"], unit["weight_g"]))
    return moves


# -- collection over many sessions (worker processes) ---------------------------------------------------

_worker: dict[str, Any] = {}
VerifierFactory = Callable[[], Verifier]


def _init(make_driver: VerifierFactory) -> None:
    _worker["driver"] = make_driver()
    _worker["stores"] = {}


def _store(seed: int) -> tuple[Any, Catalog]:
    stores = _worker["stores"]
    if seed not in stores:
        store = store_for_seed(seed)
        stores[seed] = (store, bench_core.store_catalog(store, seed))
    return stores[seed]


def collect_cart(jobs: list[tuple[int, int, str]]) -> list[dict[str, np.ndarray]]:
    """One cart's sessions in order, its weight book carrying across them (as `bench_core` runs them)."""
    _worker["book"] = WeightBook()
    return [collect_one(job) for job in jobs]


def collect_one(job: tuple[int, int, str]) -> dict[str, np.ndarray]:
    seed, index, kind = job
    store, catalog = _store(seed)
    sid = session_id(seed, index)
    session = generate_session(store, [seed, index], sid, kind, 80.0, "counts" if index % 2 else "g")
    trace = bench_core.session_trace(session)
    recorder = Recorder(_worker["driver"])
    with matcher_context():
        replay_trace(trace, catalog, recorder, book=_worker.get("book"))
    moves = truth_moves(session.truth)
    rule = RuleVerifier()
    rows, labels, kinds, rule_scores = [], [], [], []
    for asked in recorder.asked:
        if asked.query.expected_g is None:
            continue
        rows.append(query_features(asked.query))
        labels.append(label(asked, moves))
        kinds.append(KIND_GRAMS if asked.keys is None else KIND_REMOVE if asked.measured else KIND_PLACE)
        rule_scores.append(rule.fit(asked.query) or 0.0)
    n = len(rows)
    return {
        "x": np.asarray(rows, dtype=np.float32).reshape(n, N_FEATURES),
        "y": np.asarray(labels, dtype=np.int8),
        "query_kind": np.asarray(kinds, dtype=np.int8),
        "rule_score": np.asarray(rule_scores, dtype=np.float64),
        "session": np.full(n, seed * 100000 + index, dtype=np.int64),
        "session_kind": np.full(n, SESSION_KINDS.index(kind), dtype=np.int8),
    }


def collect(
    store_seeds: list[int],
    sessions_per_store: int,
    make_driver: VerifierFactory,
    workers: int,
    incident_rate: float = 0.5,
) -> dict[str, np.ndarray]:
    """Queries of `sessions_per_store` generated sessions from each store seed, concatenated."""
    carts: list[list[tuple[int, int, str]]] = []
    for seed in store_seeds:
        jobs = [
            (seed, index, kind) for index, kind in enumerate(session_kinds(sessions_per_store, incident_rate, seed))
        ]
        carts += [jobs[i * len(jobs) // CARTS : (i + 1) * len(jobs) // CARTS] for i in range(CARTS)]
    make_driver()  # fail here, not in every worker (a pool restarts a failing initializer for ever)
    with multiprocessing.get_context("spawn").Pool(workers, _init, (make_driver,)) as pool:
        parts = [part for cart in pool.map(collect_cart, carts, chunksize=1) for part in cart]
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def rule_driver() -> Verifier:
    return RuleVerifier()


# -- end to end: the benchmark's own session runner with any verifier ----------------------------------


def _bench_init(seed: int, make: VerifierFactory) -> None:
    bench_core._init(seed, "rule", None, True)
    bench_core._worker["verifier"] = make()


def evaluate(
    seed: int, sessions: int, make: VerifierFactory, workers: int, incident_rate: float = 0.5, carts: int = CARTS
) -> tuple[dict[str, Any], list[Any]]:
    """bench_core's figures (reviews, alerts, incidents caught, silent overcharges) for any verifier,
    on its sessions shared between `carts` learning carts, as `tools.bench_core` runs them."""
    jobs = list(enumerate(session_kinds(sessions, incident_rate, seed)))
    per_cart = [jobs[i * len(jobs) // carts : (i + 1) * len(jobs) // carts] for i in range(carts)]
    make()  # fail here, not in every worker
    with multiprocessing.get_context("spawn").Pool(workers, _bench_init, (seed, make)) as pool:
        fresh = [(cart, {}) for cart in per_cart]  # every cart starts with an empty weight book
        results = [r for cart in pool.map(bench_core._run_cart, fresh, chunksize=1) for r in cart]
    return bench_core.summarise(results), results
