"""Checkout sync: the cart's side of exactly-once delivery to the store (see store/PROTOCOL.md).

`outbox` builds the session message queued with the session's end, `delivery` sends queued rows
with backoff until the store acknowledges them, `client` signs requests with the cart's own
credential (`credentials`), `catalog_sync` and `weighings` poll what the store publishes, and
`runner.SyncRunner` runs all of it on one background thread for the cart daemon.
"""
