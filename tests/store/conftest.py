from tests.store.fixtures import db_url, pg_cluster, sqlite_url, store_deps  # noqa: F401
