"""PySide6 6.12.0 on CPython 3.11 drops a reference to None on every void call and aborts after a
few thousand; the dependency excludes that release. This keeps the installed one honest."""

from __future__ import annotations

import os
import subprocess
import sys

CODE = """
from PySide6.QtGui import QGuiApplication, QImage, QPainter, QColor
app = QGuiApplication([])
img = QImage(16, 16, QImage.Format.Format_ARGB32_Premultiplied)
p = QPainter(img)
for i in range(10000):
    img.fill(QColor(i % 256, 0, 0))
    p.drawEllipse(0, 0, 8, 8)
p.end()
print("ok")
"""


def test_twenty_thousand_void_calls_do_not_crash():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"
