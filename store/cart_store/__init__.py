"""cart-store: the store service smart carts deliver their finished sessions to (see store/README.md)."""

__version__ = "0.1.0"
