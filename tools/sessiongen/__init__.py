"""Simulated shopping sessions for benchmarking the cart: store, scale physics, shopper, ground truth.

The world is modelled from real hardware and shopper behaviour, independently of the cart's own
algorithms (see WORLD.md). Typical use:

    store = build_store(seed)                       # catalog from ../shared/data
    session = generate_session(store, seed, "s1", kind="swap", sps=80, unit="counts")
    write_session(session, out_dir)                 # OUT/s1/trace.jsonl + OUT/truth/s1.json
    generate_dataset(out_dir, sessions=1000, seed=1, incident_rate=0.5)   # what `cartctl generate` runs
"""

from tools.sessiongen.catalog import Product, Store, build_store, write_catalog, write_store_truth
from tools.sessiongen.dataset import generate_dataset, session_kinds, store_for_seed
from tools.sessiongen.session import Session, bill_lines, generate_session, half_up_cents, write_session
from tools.sessiongen.shopper import INCIDENT_KINDS, SESSION_KINDS

__all__ = [
    "INCIDENT_KINDS",
    "SESSION_KINDS",
    "Product",
    "Session",
    "Store",
    "bill_lines",
    "build_store",
    "generate_dataset",
    "generate_session",
    "half_up_cents",
    "session_kinds",
    "store_for_seed",
    "write_catalog",
    "write_session",
    "write_store_truth",
]
