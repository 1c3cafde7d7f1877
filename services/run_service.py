"""Start one service: ``python -m services.run_service catalog``.

The one place that names each service's class and its nameko config; the launcher and the
systemd units both use it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "deploy" / "nameko.yaml"
SERVICE_CLASSES = {
    "catalog": "services.catalog.service:CatalogService",
    "orders": "services.orders.service:OrdersService",
    "dispatch": "services.dispatch.service:DispatchService",
    "notify": "services.notify.service:NotifyService",
}


def command(name: str) -> list[str]:
    nameko = str(Path(sys.executable).parent / "nameko")
    return [nameko, "run", "--config", str(CONFIG), SERVICE_CLASSES[name]]


def main() -> None:
    if len(sys.argv) != 2 or sys.argv[1] not in SERVICE_CLASSES:
        sys.exit(f"usage: python -m services.run_service {{{','.join(SERVICE_CLASSES)}}}")
    argv = command(sys.argv[1])
    os.chdir(ROOT)
    os.execv(argv[0], argv)  # the service becomes this process: signals reach nameko directly


if __name__ == "__main__":
    main()
