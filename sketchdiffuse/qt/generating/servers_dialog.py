"""Where pictures are made: this computer or a saved ComfyUI server, with Test connection.

The list holds "This computer" and each saved server; the chosen row is where pictures are made after OK.
A server row shows its address, access token and checkpoint (the list Test connection brought back).
The report says in a sentence what the address leads to; asking happens off the window's thread
(server_probe.py), so a server that does not answer never freezes the window.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sketchdiffuse.generation.comfy.connection import ConnectionReport
from sketchdiffuse.generation.model_lists import ModelLists
from sketchdiffuse.qt.dialogs import ok_cancel
from sketchdiffuse.qt.generating.server_probe import ServerProbe
from sketchdiffuse.session.servers import LOCAL, Server, ServerList, normalised_url

NEW_SERVER = "http://127.0.0.1:8188"  # ComfyUI's own default address
OK_STYLE, PROBLEM_STYLE = "color: #8fd18f;", "color: #ff8a70;"


class ServersDialog(QDialog):
    def __init__(self, current: ServerList, probe: ServerProbe, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Where pictures are made")
        self.probe = probe
        self.entries: list[Server] = list(current.servers)
        self.rows = QListWidget()
        self.rows.addItem("This computer")
        for server in self.entries:
            self.rows.addItem(server.url)
        self.add_button, self.remove_button = QPushButton("Add server"), QPushButton("Remove")
        self.address, self.token = QLineEdit(), QLineEdit()
        self.address.setPlaceholderText("http://HOST:8188 or https://...")
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("none (only for a server that asks for one)")
        self.checkpoint = QComboBox()
        self.checkpoint.setEditable(True)
        self.checkpoint.setToolTip("The checkpoint on the server (its models/checkpoints folder); Test lists them")
        self.test_button = QPushButton("Test connection")
        self.report = QLabel("")
        self.report.setWordWrap(True)
        self.report.setMinimumWidth(380)
        self.local_note = QLabel(
            "Pictures are made by this computer's own engine, with the model chosen in the prompt panel."
        )
        self.local_note.setWordWrap(True)

        self.form_box = QWidget()
        form = QFormLayout(self.form_box)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Address", self.address)
        form.addRow("Access token", self.token)
        form.addRow("Checkpoint", self.checkpoint)
        form.addRow("", self.test_button)
        form.addRow(self.report)
        side = QVBoxLayout()
        side.addWidget(self.local_note)
        side.addWidget(self.form_box)
        side.addStretch(1)
        row_buttons = QHBoxLayout()
        row_buttons.addWidget(self.add_button)
        row_buttons.addWidget(self.remove_button)
        left = QVBoxLayout()
        left.addWidget(QLabel("Make pictures on the selected one:"))
        left.addWidget(self.rows, 1)
        left.addLayout(row_buttons)
        body = QHBoxLayout()
        body.addLayout(left, 2)
        body.addLayout(side, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(ok_cancel(self))

        self.rows.currentRowChanged.connect(self._show_row)
        self.add_button.clicked.connect(self.add_server)
        self.remove_button.clicked.connect(self.remove_server)
        self.test_button.clicked.connect(self.test_connection)
        self.address.editingFinished.connect(self._store_row)
        self.token.editingFinished.connect(self._store_row)
        self.checkpoint.currentTextChanged.connect(lambda _text: self._store_row())
        probe.reported.connect(self._reported)
        self.finished.connect(lambda _code: probe.reported.disconnect(self._reported))
        active = next((i for i, s in enumerate(self.entries) if s.url == current.active), -1)
        self._shown = -2  # the row the fields show (none yet)
        self.rows.setCurrentRow(active + 1)

    # -- rows -----------------------------------------------------------------------------
    def _index(self) -> int:
        """The selected server's index in ``entries``; -1 for this computer."""
        return self.rows.currentRow() - 1

    def _show_row(self, row: int) -> None:
        index = row - 1
        self._shown = -2  # no storing while the fields are filled
        server = self.entries[index] if 0 <= index < len(self.entries) else None
        self.local_note.setVisible(server is None)
        self.form_box.setVisible(server is not None)
        self.remove_button.setEnabled(server is not None)
        self.test_button.setEnabled(True)  # a test still asked about another row reports there no more
        self.report.setText("")
        if server is not None:
            self.address.setText(server.url)
            self.token.setText(server.token)
            self._fill_checkpoints(self.probe.models.get(server.url), server.model)
        self._shown = index

    def _fill_checkpoints(self, models: ModelLists | None, chosen: str) -> None:
        names = models.checkpoints if models is not None else []
        self.checkpoint.blockSignals(True)
        self.checkpoint.clear()
        self.checkpoint.addItems(names if chosen in names or not chosen else [chosen, *names])
        self.checkpoint.setCurrentText(chosen or (names[0] if names else ""))
        self.checkpoint.blockSignals(False)

    def _store_row(self) -> bool:
        """The fields back into the shown server; an address typed as host:port gets its http://. False when
        the address typed was refused (saved already in another row)."""
        index = self._shown
        if not 0 <= index < len(self.entries):
            return True
        url = normalised_url(self.address.text()) or self.entries[index].url
        refused = any(s.url == url for i, s in enumerate(self.entries) if i != index)
        if refused:
            self.address.setText(self.entries[index].url)  # two rows for one server would merge on OK
            self.report.setStyleSheet(PROBLEM_STYLE)
            self.report.setText(f"{url} is saved already; select its row to change it.")
            url = self.entries[index].url
        if url != self.entries[index].url:
            self.test_button.setEnabled(True)  # a test of the old address reports here no more
        self.entries[index] = Server(url, self.token.text().strip(), self.checkpoint.currentText().strip())
        self.rows.item(index + 1).setText(url)
        return not refused

    def add_server(self) -> None:
        self._store_row()
        url = NEW_SERVER
        while any(s.url == url for s in self.entries):  # a second one on this machine: the next port
            host, port = url.rsplit(":", 1)
            url = f"{host}:{int(port) + 1}"
        self.entries.append(Server(url))
        self.rows.addItem(url)
        self.rows.setCurrentRow(len(self.entries))
        self.address.setFocus()
        self.address.selectAll()

    def remove_server(self) -> None:
        index = self._index()
        if 0 <= index < len(self.entries):
            self._shown = -2
            del self.entries[index]
            self.rows.takeItem(index + 1)
            self.rows.setCurrentRow(0)

    # -- Test connection ----------------------------------------------------------------
    def test_connection(self) -> None:
        if not self._store_row():
            return  # the refusal stays in the report
        index = self._index()
        if not 0 <= index < len(self.entries):
            return
        server = self.entries[index]
        self.report.setStyleSheet("")
        self.report.setText(f"Asking {server.url}…")
        self.test_button.setEnabled(False)
        self.probe.ask(server.url, server.token)

    def _reported(self, report: ConnectionReport) -> None:
        index = self._index()
        if not 0 <= index < len(self.entries) or self.entries[index].url != report.url:
            return  # an answer about a row no longer shown
        self.test_button.setEnabled(True)
        self.report.setStyleSheet(OK_STYLE if report.ok else PROBLEM_STYLE)
        self.report.setText(report.text)
        if report.models is not None:
            self._fill_checkpoints(report.models, self.entries[index].model)
            self._store_row()

    # -- the answer ----------------------------------------------------------------------
    def chosen(self) -> ServerList:
        """The saved servers and where pictures are made: the selected row."""
        self._store_row()
        servers = ServerList()
        for server in self.entries:
            servers = servers.saved(server)
        index = self._index()
        active = self.entries[index].url if 0 <= index < len(self.entries) else LOCAL
        return replace(servers, active=active).switched(active)
