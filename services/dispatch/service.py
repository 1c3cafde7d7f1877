"""Dispatch service: repair requests and technicians (features arrive with their issue)."""

from __future__ import annotations

from services.common.service_base import ServiceBase
from services.common.store import StoreProvider
from services.dispatch.store import DispatchStore


class DispatchService(ServiceBase):
    name = "dispatch"
    store = StoreProvider(DispatchStore, "dispatch")
