"""The settings' storage in the window: QSettings, behind the session's small Storage protocol."""

from __future__ import annotations

from PySide6.QtCore import QSettings


class QSettingsStorage:
    def __init__(self, settings: QSettings | None = None) -> None:
        self.settings = settings or QSettings()

    def get(self, key: str) -> object | None:
        return self.settings.value(key) if self.settings.contains(key) else None

    def set(self, key: str, value: object) -> None:
        self.settings.setValue(key, value)
