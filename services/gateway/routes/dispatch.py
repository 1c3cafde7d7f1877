"""Repairs, technicians and dispatch."""

from __future__ import annotations

from services.gateway.api import ApiBlueprint

blp = ApiBlueprint("dispatch", __name__, url_prefix="/api/v1", description="Repairs, technicians and dispatch")
