"""A nameko timer whose interval is a setting.

nameko's own ``@timer(interval=...)`` takes its interval when the class is defined, which
forced a module-level environment read. This one reads the interval through
``services.common.config.setting`` from the container config when the service starts, so the
interval is configured like every other setting (and a test's container config can set it).
"""

from __future__ import annotations

from nameko.timer import Timer

from services.common.config import DEFAULTS, setting


class SettingTimer(Timer):
    def __init__(self, key: str, **kwargs):
        super().__init__(DEFAULTS[key], **kwargs)
        self.key = key

    def setup(self) -> None:
        self.interval = setting(self.container.config, self.key)


# Usage: @timer_every("NOTIFY_TIMER_SECONDS")
timer_every = SettingTimer.decorator
