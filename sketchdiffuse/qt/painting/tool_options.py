"""Tool options bar: brush, eraser and picker; size, hardness, opacity, flow; colour and recent colours."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QColor, QIcon, QPixmap
from PySide6.QtWidgets import QCheckBox, QColorDialog, QLabel, QSlider, QSpinBox, QToolBar, QToolButton, QWidget

from sketchdiffuse.brush import BrushSettings
from sketchdiffuse.qt.icons import icon
from sketchdiffuse.qt.painting.canvas import Tool

MAX_RECENT = 6


def swatch(color: QColor, size: int = 18) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(color)
    return QIcon(pixmap)


class ToolOptions(QToolBar):
    brushChanged = Signal(object)
    fillChanged = Signal(int, bool)  # tolerance, contiguous
    toolChanged = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Tool options", parent)
        self.setObjectName("tool-options")
        self.brush = BrushSettings()
        self.recent: list[QColor] = []
        group = QActionGroup(self)
        self.tool_actions: dict[Tool, QAction] = {}
        for tool, label, key in (
            (Tool.BRUSH, "Brush", "B"),
            (Tool.ERASER, "Eraser", "E"),
            (Tool.PICKER, "Colour picker", "I"),
            (Tool.SELECT_RECT, "Rectangle selection", "M"),
            (Tool.SELECT_ELLIPSE, "Ellipse selection", "J"),
            (Tool.LASSO, "Lasso selection", "L"),
            (Tool.POLYGON_LASSO, "Polygonal lasso (click corners, double-click or Enter closes)", "Shift+L"),
            (Tool.MOVE, "Move the layer or the selection (arrow keys nudge; Shift: 10 px)", "V"),
            (Tool.FILL, "Fill with the brush colour (similar colours, touching the click)", "G"),
        ):
            action = QAction(icon(tool.value), label, self)
            action.setCheckable(True)
            action.setShortcut(key)
            action.setToolTip(f"{label} ({key})")
            action.triggered.connect(lambda _=False, t=tool: self.toolChanged.emit(t))
            group.addAction(action)
            self.addAction(action)
            self.tool_actions[tool] = action
        self.tool_actions[Tool.BRUSH].setChecked(True)
        self.addSeparator()

        self.size_box = QSpinBox()
        self.size_box.setRange(1, 1000)
        self.size_box.setSuffix(" px")
        self.size_box.setToolTip("Brush size ([ and ] change it)")
        self.size_box.setValue(int(self.brush.size))
        self.addWidget(QLabel(" Size "))
        self.addWidget(self.size_box)
        self.sliders: dict[str, QSlider] = {}
        for name in ("hardness", "opacity", "flow"):
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(0, 100)
            slider.setFixedWidth(90)
            slider.setValue(round(getattr(self.brush, name) * 100))
            slider.setToolTip(f"{name.title()}: {slider.value()} %")
            self.addWidget(QLabel(f"  {name.title()} "))
            self.addWidget(slider)
            self.sliders[name] = slider
            slider.valueChanged.connect(lambda v, n=name, s=slider: self._slider(n, s, v))
        self.size_box.valueChanged.connect(lambda v: self.set_brush(self.brush.with_(size=float(v))))
        self.addSeparator()
        # The fill tool: how different a colour may be and still be filled, and whether only touching ones.
        self.tolerance = QSpinBox()
        self.tolerance.setRange(0, 255)
        self.tolerance.setValue(32)
        self.tolerance.setToolTip("Fill tolerance: how far a colour may be from the clicked one (0-255)")
        self.contiguous = QCheckBox("Contiguous")
        self.contiguous.setChecked(True)
        self.contiguous.setToolTip("Fill only the similar colours that touch the clicked pixel")
        self.addWidget(QLabel(" Fill "))
        self.addWidget(self.tolerance)
        self.addWidget(self.contiguous)
        for signal in (self.tolerance.valueChanged, self.contiguous.toggled):
            signal.connect(lambda _=None: self.fillChanged.emit(self.tolerance.value(), self.contiguous.isChecked()))
        self.addSeparator()

        self.color_button = QToolButton()
        self.color_button.setToolTip("Brush colour")
        self.color_button.clicked.connect(self.choose_color)
        self.addWidget(self.color_button)
        self.recent_buttons: list[QToolButton] = []
        for _ in range(MAX_RECENT):
            button = QToolButton()
            button.setAutoRaise(True)
            button.setVisible(False)
            button.clicked.connect(lambda _=False, b=button: self.set_color(b.property("color")))
            self.addWidget(button)
            self.recent_buttons.append(button)
        self._show_color()

    # -- brush ---------------------------------------------------------------------------
    def set_brush(self, brush: BrushSettings) -> None:
        self.brush = brush
        if self.size_box.value() != round(brush.size):
            self.size_box.blockSignals(True)
            self.size_box.setValue(round(brush.size))
            self.size_box.blockSignals(False)
        self.brushChanged.emit(brush)

    def _slider(self, name: str, slider: QSlider, value: int) -> None:
        slider.setToolTip(f"{name.title()}: {value} %")
        self.set_brush(self.brush.with_(**{name: value / 100}))

    def scale_size(self, factor: float) -> None:
        self.set_brush(self.brush.with_(size=min(1000.0, max(1.0, round(self.brush.size * factor)))))

    # -- colour --------------------------------------------------------------------------
    @property
    def color(self) -> QColor:
        return QColor(*self.brush.color)

    def choose_color(self) -> None:
        chosen = QColorDialog.getColor(self.color, self, "Brush colour")
        if chosen.isValid():
            self.set_color(chosen)

    def set_color(self, color: QColor) -> None:
        old = self.color
        if old.rgb() != color.rgb():
            self.recent = [old] + [c for c in self.recent if c.rgb() not in (old.rgb(), color.rgb())]
            self.recent = self.recent[:MAX_RECENT]
        self.set_brush(self.brush.with_(color=(color.red(), color.green(), color.blue())))
        self._show_color()

    def _show_color(self) -> None:
        self.color_button.setIcon(swatch(self.color, 22))
        for button, color in zip(self.recent_buttons, [*self.recent, *[None] * MAX_RECENT], strict=False):
            button.setVisible(color is not None)
            if color is not None:
                button.setIcon(swatch(color, 14))
                button.setProperty("color", color)
                button.setToolTip(color.name())
