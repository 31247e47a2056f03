"""After a crash: offer each autosaved document with its time and thumbnail, to restore or discard."""

from __future__ import annotations

import time

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from sketchdiffuse.io.recovery import Recoverable
from sketchdiffuse.session.recovery import DISCARD, LATER, RESTORE


def describe(entry: Recoverable) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.saved_at))
    source = f"\nfrom {entry.original}" if entry.original else "\nnever saved"
    return f"{entry.title}\nautosaved {when}{source}"


class RecoveryDialog(QDialog):
    def __init__(self, entries: list[Recoverable], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Recover unsaved work")
        self.entries = entries
        self.choice = LATER
        text = QLabel(
            "sketchdiffuse did not close normally last time. These documents were autosaved; "
            "restore one to keep painting, or discard what you do not need."
        )
        text.setWordWrap(True)
        self.list = QListWidget()
        self.list.setIconSize(QSize(96, 96))
        for entry in entries:
            item = QListWidgetItem(describe(entry))
            png = entry.thumbnail_png()
            if png:
                pixmap = QPixmap()
                pixmap.loadFromData(png)
                item.setIcon(QIcon(pixmap))
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        buttons = QDialogButtonBox()
        restore = buttons.addButton("Restore", QDialogButtonBox.ButtonRole.AcceptRole)
        discard = buttons.addButton("Discard", QDialogButtonBox.ButtonRole.DestructiveRole)
        later = buttons.addButton("Decide later", QDialogButtonBox.ButtonRole.RejectRole)
        restore.clicked.connect(lambda: self._choose(RESTORE))
        discard.clicked.connect(lambda: self._choose(DISCARD))
        later.clicked.connect(lambda: self._choose(LATER))
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)
        self.resize(520, 380)
        self.list.itemDoubleClicked.connect(lambda _item: self._choose(RESTORE))

    def _choose(self, choice: str) -> None:
        self.choice = choice
        self.accept() if choice != LATER else self.reject()

    def selected(self) -> Recoverable | None:
        row = self.list.currentRow()
        return self.entries[row] if 0 <= row < len(self.entries) else None
