"""`python -m cart_store` is the `cart-store` command."""

from cart_store.cli import main

raise SystemExit(main())
