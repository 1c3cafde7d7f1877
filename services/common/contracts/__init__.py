"""Event contracts, one module per source service. Importing this package registers them all."""

from services.common.contracts import catalog, dispatch, orders  # noqa: F401
