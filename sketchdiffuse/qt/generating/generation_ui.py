"""Generation in the window: the prompt panel, the worker, progress and previews, the history strip."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QSettings, QUrl, Signal, SignalInstance
from PySide6.QtGui import QAction, QActionGroup, QDesktopServices
from PySide6.QtWidgets import QMenu, QWidget

import sketchdiffuse.generation.tuning as tuning
from sketchdiffuse.document.document import Document
from sketchdiffuse.document.errors import DocumentError
from sketchdiffuse.document.history import History
from sketchdiffuse.document.rect import Rect
from sketchdiffuse.generation.comfy.connection import ConnectionReport
from sketchdiffuse.generation.engine import Progress
from sketchdiffuse.generation.errors import UNRECOGNISED, GenerationError
from sketchdiffuse.generation.family import Family, family_from_name
from sketchdiffuse.generation.history_store import decode_history, encode_history, entry_from_png
from sketchdiffuse.generation.limits import RANDOM_SEED, resolve_seed
from sketchdiffuse.generation.model_ref import ModelRef, SourceKind
from sketchdiffuse.generation.models import detect_family
from sketchdiffuse.generation.request import GenerationRequest, GenerationResult
from sketchdiffuse.io.atomic import atomic_writer
from sketchdiffuse.io.errors import describe_os_error
from sketchdiffuse.io.png_meta import parse_parameters
from sketchdiffuse.qt.convert import rgb_to_qimage, to_qimage
from sketchdiffuse.qt.files.autosave import data_folder
from sketchdiffuse.qt.generating.history_strip import HistoryEntry, HistoryStrip
from sketchdiffuse.qt.generating.live_mode import LiveMode
from sketchdiffuse.qt.generating.prompt_panel import PromptPanel
from sketchdiffuse.qt.generating.references_area import ReferencesArea
from sketchdiffuse.qt.generating.server_probe import ServerProbe
from sketchdiffuse.qt.generating.worker import GenerationController
from sketchdiffuse.qt.painting.canvas import CanvasView
from sketchdiffuse.qt.prompter import Prompter
from sketchdiffuse.qt.settings_storage import QSettingsStorage
from sketchdiffuse.qt.window_menus import make_action
from sketchdiffuse.session.control_parameters import parsed_controls, restore_controls
from sketchdiffuse.session.image_layers import apply_result, result_layer
from sketchdiffuse.session.loras import encode_loras
from sketchdiffuse.session.model_overrides import ModelOverrides
from sketchdiffuse.session.references import decode_references, encode_references
from sketchdiffuse.session.requests import document_request, model_ref, refine_request
from sketchdiffuse.session.servers import LOCAL, ServerList, read_servers, write_servers
from sketchdiffuse.session.settings import PanelValues, RunSettings, read_panel, read_run, write_panel, write_run

VARIATIONS = 4  # Generate Variations: this many pictures with consecutive seeds


class GenerationUi(QObject):
    """The prompt panel, the history strip, live mode and the Generate menu, wired to the worker.

    It receives the narrow things it uses: the widget that owns its actions (their shortcuts work
    anywhere in the window), the canvas (previews and comparisons), the undo history and a document
    getter (the drawing, applying results), the prompter, the settings and a status callback. The
    window places ``panel``, ``strip``, ``live.pane`` and ``menu``. ``applied`` and ``settings_saved``
    are hooks the window sets (autosave reacts to both)."""

    liveShown = Signal()  # live mode was switched on: its pane should be visible
    whereChanged = Signal(str)  # where pictures are made now, for the status bar

    def __init__(
        self,
        owner: QWidget,
        canvas: CanvasView,
        document: Callable[[], Document],
        history: History,
        edited: SignalInstance,
        prompter: Prompter,
        settings: QSettings,
        notify: Callable[[str], None],
    ) -> None:
        super().__init__(owner)
        self.owner, self.canvas, self.document, self.history = owner, canvas, document, history
        self.prompter, self.notify = prompter, notify
        self.applied: Callable[[], object] = lambda: None
        self.settings_saved: Callable[[], object] = lambda: None
        self.storage = QSettingsStorage(settings)
        self.overrides = ModelOverrides(self.storage)
        tuning.set_enabled(self.run_settings().tuning)
        self.panel = PromptPanel()
        if settings.contains("prompt/steps"):
            self.panel.set_values(read_panel(self.storage).as_dict())
        else:  # first run: steps and guidance suited to the default model (few steps for SD-Turbo)
            self.panel.apply_family_defaults(family_from_name(self.panel.model))
        self.strip = HistoryStrip()
        self.references = ReferencesArea()
        self.panel.form.addRow("References", self.references)
        self.controller: GenerationController | None = None  # the worker thread starts on first use
        self.servers = read_servers(self.storage)
        self.probe = ServerProbe(self)
        self.probe.reported.connect(self._server_reported)
        self._menu_after_probe = False  # the Model button waits for the server's checkpoint list
        self.results_dir: Path | None = None  # where results are written as they arrive (default: app data)
        self.show_previews = True
        self._compare: HistoryEntry | None = None
        self._preview_area: Rect | None = None  # where progress previews go: the region, or all the canvas

        self.live = LiveMode(self, self)
        edited.connect(self.live.changed)
        self.panel.changed.connect(self.live.changed)
        self.references.changed.connect(self.live.changed)
        self.references.message.connect(lambda text: self._status(text, error=True))

        self.panel.generateRequested.connect(self.generate)
        self.panel.cancelRequested.connect(self.cancel)
        self.panel.chooseModelRequested.connect(self.choose_model)
        self.strip.applyRequested.connect(self.apply)
        self.strip.previewRequested.connect(self.compare)
        self.strip.reuseRequested.connect(self.reuse)
        self.strip.refineRequested.connect(self.refine)
        self.strip.referenceRequested.connect(lambda entry: self.references.add_pixels(entry.result.image))
        self.strip.saveRequested.connect(self.save_entry)

        self.actions = {
            "generate": self._action("&Generate", self.generate, "Ctrl+Return"),
            "regenerate": self._action("&Regenerate with the Same Seed", self.regenerate, "Ctrl+Shift+Return"),
            "variations": self._action(
                f"Generate {VARIATIONS} &Variations", lambda: self.generate(count=VARIATIONS), "Ctrl+Alt+G"
            ),
            "cancel": self._action("&Cancel Generation", self.cancel, "Escape"),
        }
        self.actions["settings"] = self._action("Generation &Settings…", self.edit_settings, "Ctrl+,")
        self.actions["model_settings"] = self._action("&Model Settings…", self.edit_model_settings, "")
        live = self._action("&Live Mode", lambda: None, "Ctrl+L")
        live.setCheckable(True)
        live.toggled.connect(self.set_live)
        self.actions["live"] = live
        self.actions["apply_live"] = self._action("&Apply Live Result", self.live.apply, "Ctrl+Shift+L")
        self.actions["pin_live"] = self._action("&Pin Live Result to History", self.live.pin, "Ctrl+Alt+L")
        self.actions["render_full"] = self._action(
            "Render Live State at &Full Size", self.live.render_full_size, "Ctrl+Alt+Return"
        )
        self.actions["import_results"] = self._action("&Import Results into History…", self.import_results, "")
        self.actions["results_folder"] = self._action("Open Results &Folder", self.open_results_folder, "")
        preview = QAction("Show &Progress Preview", owner)
        preview.setCheckable(True)
        preview.setChecked(True)
        preview.toggled.connect(self._toggle_previews)
        self.actions["preview"] = preview
        self.actions["servers"] = self._action("&Where Pictures Are Made…", self.edit_servers, "")
        self.menu = QMenu("&Generate", owner)
        self.menu.addActions(list(self.actions.values()))
        self.where_menu = self.menu.addMenu("Generate &On")
        self.where_group = QActionGroup(self)
        self.last_result: GenerationResult | None = None
        self._show_where()

    def _action(self, text: str, slot: Callable[[], object], shortcut: str) -> QAction:
        return make_action(self.owner, text, slot, shortcut or None)

    # -- jobs ----------------------------------------------------------------------------
    # -- what live mode asks (live_mode.LiveHost) -------------------------------------
    def live_seed(self) -> int:
        """The panel's seed when locked, else the last result's, else a new random one."""
        values = self.panel.values()
        if values["seed_locked"]:
            return int(values["seed"])
        return self.last_result.seed if self.last_result else resolve_seed(RANDOM_SEED)

    def submit_live(self, request: GenerationRequest) -> bool:
        return self.ensure_controller().submit(request, live=True)

    def cancel_live(self) -> None:
        if self.controller is not None:
            self.controller.cancel_live()

    def pin_result(self, result: GenerationResult) -> None:
        self.strip.add(result, pinned=True)

    def ensure_controller(self) -> GenerationController:
        """The worker and its thread, started on first use."""
        if self.controller is None:
            c = self.controller = GenerationController(parent=self)
            c.worker.results_dir = self.results_folder()
            c.worker.use_tokens(self.servers.tokens())
            c.busyChanged.connect(self.panel.set_busy)
            c.busyChanged.connect(self._busy_changed)
            c.progress.connect(self._on_progress)
            c.preview.connect(self._on_preview)
            c.loading.connect(self._on_loading)
            c.finished.connect(self._on_finished)
            c.cancelled.connect(self._on_cancelled)
            c.failed.connect(self._on_failed)
        return self.controller

    def warm_up(self) -> None:
        """Start the worker and import the ML libraries on it, before the artist starts painting."""
        self.ensure_controller().request_preload.emit()

    def build_request(self, seed: int | None = None) -> GenerationRequest | None:
        # The canvas keeps the composite current per dirty rectangle: no recomposite of every layer.
        doc = self.document()
        panel, run = PanelValues.from_mapping(self.panel.values()), self.run_settings()
        try:
            request = document_request(
                panel, run, doc, seed, self.references.references, self.servers.current
            )  # with a selection: in it
        except GenerationError as exc:
            self._status(str(exc), error=True)
            return None
        if request.model.kind is SourceKind.SERVER:  # the server tells its models apart itself
            return request
        refiner = self.overrides.applied(request.refiner) if request.refiner is not None else None
        return request.with_(model=self.overrides.applied(request.model), refiner=refiner)

    def generate(self, seed: int | None = None, count: int = 1) -> None:
        """One picture, or ``count`` variations with consecutive seeds, each added to the history as it is done."""
        request = self.build_request(seed)
        if request is None:
            return
        write_panel(self.storage, PanelValues.from_mapping(self.panel.values()))
        self._status("Starting…")
        self._previews_for(request)
        if count > 1:
            self.ensure_controller().submit_batch(request, count)
        else:
            self.ensure_controller().submit(request)

    def _previews_for(self, request: GenerationRequest) -> None:
        """Progress previews of ``request`` go where its picture will: its region, or all of the canvas."""
        self._preview_area = Rect(*request.region) if request.region is not None else None

    def regenerate(self) -> None:
        """The current drawing with the last result's seed."""
        self.generate(self.last_result.seed if self.last_result else None)

    def cancel(self) -> None:
        if self.controller is not None and self.controller.busy:
            self.controller.cancel()
        elif self._compare is not None:
            self.compare(None)

    # -- messages from the worker --------------------------------------------------------
    def _status(self, text: str, error: bool = False) -> None:
        self.panel.status.setText(text)
        self.panel.status.setStyleSheet("color: #ff8a70;" if error else "")
        self.notify(text)

    def _on_loading(self, job: int, stage: str, done: int, total: int) -> None:
        if stage == "download" and total:
            self.panel.progress.setRange(0, 1000)
            self.panel.progress.setValue(int(1000 * done / total))
            self._status(f"Downloading the model: {done / 1e6:.0f} of {total / 1e6:.0f} MB")
        elif stage == "load" and done == 0:
            self.panel.progress.setRange(0, 0)
            self._status("Loading the model…")

    def _on_progress(self, job: int, p: Progress) -> None:
        self.panel.progress.setRange(0, p.total)
        self.panel.progress.setValue(p.step)
        self._status(f"Step {p.step} of {p.total}, about {p.remaining:.0f} s left")

    def _on_preview(self, job: int, image: np.ndarray) -> None:
        if self.show_previews and not self._is_live(job):
            self.canvas.show_overlay(rgb_to_qimage(image), self._preview_area)

    def _busy_changed(self, busy: bool) -> None:
        if not busy:
            self.live.controller_idle()

    def _on_cancelled(self, job: int) -> None:
        if not self._is_live(job):
            self._status("Cancelled.")

    def _is_live(self, job: int) -> bool:
        return self.controller is not None and self.controller.is_live(job)

    def set_live(self, on: bool) -> None:
        if on:
            self.liveShown.emit()
        self.live.set_enabled(on)
        self._status("Live mode on: each finished stroke regenerates." if on else "Live mode off.")

    def _on_finished(self, job: int, result: GenerationResult) -> None:
        if self._is_live(job):
            self.live.finished(result)
            self._status(f"Live result in {result.timings.get('total', 0):.1f} s.")
            return
        self.last_result = result
        self.panel.last_seed = result.seed
        self.canvas.show_overlay(None)
        self.canvas.update()
        self.strip.add(result, png=result.saved_png)
        note = " ".join(result.warnings)
        self._status(f"Done in {result.timings.get('total', 0):.1f} s (seed {result.seed}). {note}".strip())

    def _on_failed(self, job: int, message: str, model_problem: bool = False) -> None:
        if self._is_live(job):
            self.live.failed(message)
        self.canvas.show_overlay(None)
        self.canvas.update()
        self._status(message, error=True)
        if model_problem and UNRECOGNISED in message and not self._is_live(job):  # asked once, not per stroke
            self.edit_model_settings(problem=message)
        elif model_problem:
            self.explain_models(message)

    def explain_models(self, problem: str) -> None:
        if self.prompter.explain_models(problem):
            self.choose_model()

    def _toggle_previews(self, on: bool) -> None:
        self.show_previews = on
        if not on:
            self.canvas.show_overlay(None)
            self.canvas.update()

    # -- history -------------------------------------------------------------------------
    def apply(self, entry: HistoryEntry) -> None:
        self.apply_result(entry.result)
        self.compare(None)

    def apply_result(self, result: GenerationResult) -> None:
        """The result as a new layer (image_layers.apply_result): one undoable command."""
        try:
            self.history.push(apply_result(self.document(), result))
        except DocumentError as exc:  # e.g. its part of the picture was cropped away
            self._status(str(exc), error=True)
            return
        self.applied()  # an applied result is worth an autosave at once

    def compare(self, entry: HistoryEntry | None) -> None:
        """Show a result over the canvas without changing anything; the same click again hides it."""
        if entry is None or entry is self._compare:
            self._compare = None
            self.canvas.show_overlay(None)
        else:
            self._compare = entry
            result = entry.result
            if result.request.region is not None:  # made in a selection: shown in its place, its edge soft
                try:
                    self.canvas.show_overlay(to_qimage(result_layer(self.document(), result, "").pixels), None)
                except DocumentError as exc:
                    self._compare = None
                    self._status(str(exc), error=True)
            else:
                self.canvas.show_overlay(rgb_to_qimage(result.image), None)
        self.canvas.update()

    def reuse(self, entry: HistoryEntry) -> None:
        r = entry.result.request
        model = {"model": r.model.source}
        if r.model.kind is not SourceKind.SERVER:  # made here: here again, with that model
            self.use_servers(self.servers.switched(LOCAL))
        else:  # made on a server: that server with that checkpoint, if saved
            model = {}
            if self.servers.find(r.model.server) is None:
                self._status(
                    f"That picture was made on {r.model.server}, which is not among the saved servers; add it in "
                    "Generate > Where Pictures Are Made… to make pictures there again.",
                    error=True,
                )
            else:
                self.use_servers(self.servers.switched(r.model.server).with_model(r.model.source))
        self.panel.set_values(
            model
            | {
                "prompt": r.prompt,
                "negative_prompt": r.negative_prompt,
                "strength": r.strength,
                "steps": r.steps,
                "guidance_scale": r.guidance_scale,
                "seed": entry.result.seed,
                "seed_locked": True,
                "scheduler": r.scheduler,
                "loras": encode_loras([(lora.path, lora.weight) for lora in r.loras]),
            }
        )

    def refine(self, entry: HistoryEntry) -> None:
        """A short pass of the refiner over a finished picture; the refined one joins the history."""
        run = self.run_settings()
        if not run.refiner:
            self._status("Choose a refiner model in Generation settings to refine pictures.", error=True)
            return
        try:
            refiner = self.overrides.applied(model_ref(run.refiner, run))
        except GenerationError as exc:
            self._status(str(exc), error=True)
            return
        self._status("Refining…")
        request = refine_request(entry.result.request, entry.result.image, refiner, entry.result.seed)
        self._previews_for(request)
        self.ensure_controller().submit(request)

    def load_parameters_text(self, text: str) -> None:
        """Prompt and settings from an AUTOMATIC1111-style ``parameters`` text (a dropped PNG's)."""
        prompt, negative, settings = parse_parameters(text)
        values: dict[str, object] = {"prompt": prompt, "negative_prompt": negative}
        keys = {
            "Steps": "steps",
            "CFG scale": "guidance_scale",
            "Seed": "seed",
            "Sampler": "scheduler",
            "Denoising strength": "strength",
        }
        values |= {target: settings[source] for source, target in keys.items() if source in settings}
        try:
            self.panel.set_values(values)
        except (TypeError, ValueError):
            self._status("Some of the image's generation settings could not be read.", error=True)
        self._restore_controls(parsed_controls(settings))

    def _restore_controls(self, units: list[dict[str, str]]) -> None:
        """A picture's ControlNet settings go to the control layers of the same kind: one undo step."""
        if not units:
            return
        changes, missing = restore_controls(self.document(), units)
        if changes:
            self.history.begin_macro("Control settings from a picture")
            try:
                for change in changes:
                    self.history.push(change)
            finally:
                self.history.end_macro()
        if missing:
            self._status(
                f"{missing} of the picture's ControlNet settings found no control layer of their kind; give a "
                "layer the role (Layer > Control Role…) and drop the picture again.",
                error=True,
            )

    def save_entry(self, entry: HistoryEntry) -> None:
        """The result's PNG as the strip keeps it: A1111 ``parameters`` plus the record Import Results reads."""
        chosen = self.prompter.save_path(
            "Save result", "PNG (*.png)", str(self.results_folder() / f"sketchdiffuse-{entry.result.seed}.png")
        )
        if not chosen:
            return
        path = Path(chosen).with_suffix(".png")
        try:
            with atomic_writer(path) as handle:
                handle.write(entry.encoded())
        except OSError as exc:
            self.prompter.error("Save result", f"'{path.name}' could not be saved: {describe_os_error(exc)}.")

    def import_results(self, paths: list[str] | None = None) -> int:
        """Rebuild history entries from result PNGs (the results folder, or a project's); returns how many."""
        if paths is None:
            folder = str(self.results_folder())
            paths = self.prompter.open_paths("Import results", folder, "PNG (*.png)")
        added, skipped = 0, []
        for path in sorted(paths, key=lambda p: Path(p).name):
            try:
                entry = entry_from_png(Path(path).read_bytes())
            except (OSError, ValueError) as exc:
                skipped.append(f"{Path(path).name} ({exc})")
                continue
            self.strip.add(entry.result, entry.pinned, entry.created, entry.png)
            added += 1
        if skipped:
            self._status(f"Imported {added}; skipped {len(skipped)}: " + "; ".join(skipped[:3]), error=True)
        elif added:
            self._status(f"Imported {added} result{'s' if added != 1 else ''} into the history.")
        return added

    def results_folder(self) -> Path:
        return self.results_dir or data_folder("results")

    def open_results_folder(self) -> None:
        folder = self.results_folder()
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def choose_model(self) -> None:
        server = self.servers.current
        if server is not None:
            self._choose_server_checkpoint()
            return
        text = self.prompter.model_location(self.panel.model_button)
        if text:
            self.set_model(text)

    # -- where pictures are made ---------------------------------------------------------
    def _choose_server_checkpoint(self) -> None:
        """The server's checkpoints as a menu; asked for first when this session has not heard them yet."""
        server = self.servers.current
        if server is None:
            return
        models = self.probe.models.get(server.url)
        if models is None:
            self._menu_after_probe = True
            self._status(f"Asking {server.label} for its checkpoints…")
            self.probe.ask(server.url, server.token)
            return
        if not models.checkpoints:
            self._status(f"{server.label} has no checkpoints; put one in its models/checkpoints folder.", error=True)
            return
        self.probe.ask(server.url, server.token)  # the next menu shows checkpoints added since
        chosen = self.prompter.server_checkpoint(self.panel.model_button, models.checkpoints, server.model)
        if chosen:
            self.set_server_checkpoint(chosen)

    def set_server_checkpoint(self, name: str) -> None:
        """Use ``name`` on the current server; the defaults its name tells (Turbo, LCM...) are applied."""
        changed = self.servers.current is not None and self.servers.current.model != name
        self.use_servers(self.servers.with_model(name))
        if changed:
            family = family_from_name(name)
            self.panel.apply_family_defaults(family)
            self._status(f"{name} on the server: {family.label}{', ' + family.distilled if family.distilled else ''}.")

    def _server_reported(self, report: ConnectionReport) -> None:
        """A probe's answer about the current server: a problem is said at once (before the artist waits
        for a job), and the Model button's menu opens if it waited for the list."""
        server = self.servers.current
        if server is None or report.url != server.url:
            return
        if not report.ok:
            self._status(report.text, error=True)
        if self._menu_after_probe:
            self._menu_after_probe = False
            if report.models is not None:
                self._choose_server_checkpoint()

    def edit_servers(self) -> None:
        chosen = self.prompter.servers(self.servers, self.probe)
        if chosen is not None:
            self.use_servers(chosen)

    def use_servers(self, servers: ServerList) -> None:
        """Save the server list and make pictures where it says; jobs already queued run where they were asked."""
        before = self.servers.where()
        if servers.active != self.servers.active:
            self._menu_after_probe = False  # a menu asked for on the server left behind
        self.servers = servers
        write_servers(self.storage, servers)
        if self.controller is not None:
            self.controller.worker.use_tokens(servers.tokens())
        self._show_where()
        if servers.where() != before:  # another model now: its steps, guidance and sampler
            server = servers.current
            if server is None or server.model:
                self.panel.apply_family_defaults(self._family_in_use())
            self._status(f"Pictures are now made on {servers.where()}.")
            if servers.current is not None:  # a server that cannot be used is said now, not after a job
                self.probe.ask(servers.current.url, servers.current.token)
            self.live.changed()

    def _family_in_use(self) -> Family:
        server = self.servers.current
        if server is not None:
            return family_from_name(server.model)
        try:
            ref = ModelRef.parse(self.panel.model)
        except GenerationError:
            return family_from_name(self.panel.model)
        return detect_family(self.overrides.applied(ref)) or family_from_name(ref.name)

    def _show_where(self) -> None:
        server = self.servers.current
        self.panel.show_server(server.label if server else "", server.model if server else "")
        self.where_menu.clear()
        for action in self.where_group.actions():
            self.where_group.removeAction(action)
        for url, label in [(LOCAL, "This Computer"), *((s.url, s.url) for s in self.servers.servers)]:
            action = self.where_menu.addAction(label)
            action.setCheckable(True)
            action.setChecked(url == self.servers.active)
            action.setData(url)
            self.where_group.addAction(action)
            action.triggered.connect(self._switch_from_menu)
        self.whereChanged.emit(self.servers.where())

    def _switch_from_menu(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.use_servers(self.servers.switched(str(action.data())))

    def edit_model_settings(self, problem: str = "") -> bool:
        """Say what the current model is when detection got it wrong or could not tell; remembered for
        that model's content. True when something was saved."""
        if self.servers.current is not None:
            self._status("A server tells its own checkpoints apart; Model Settings are for this computer's models.")
            return False
        try:
            ref = ModelRef.parse(self.panel.model)
        except GenerationError as exc:
            self._status(str(exc), error=True)
            return False
        detected = detect_family(ref)
        chosen = self.prompter.model_override(
            ref.name, detected.label if detected else "", self.overrides.get(ref), problem
        )
        if chosen is None:
            return False
        self.overrides.set(ref, chosen)
        family = detect_family(self.overrides.applied(ref))
        if family is not None:
            self.panel.apply_family_defaults(family)
            write_panel(self.storage, PanelValues.from_mapping(self.panel.values()))
        what = family.label if family is not None else "as detected"
        self._status(f"{ref.name}: {what}. Generate again to use it." if problem else f"{ref.name}: {what}.")
        return True

    def run_settings(self) -> RunSettings:
        return read_run(self.storage)

    def edit_settings(self) -> None:
        chosen = self.prompter.run_settings(self.run_settings())
        if chosen is None:
            return
        write_run(self.storage, chosen)
        tuning.set_enabled(chosen.tuning)
        self.settings_saved()
        self._status("Settings saved; the model is reloaded at the next generation if device or precision changed.")

    def set_model(self, text: str) -> bool:
        """Use another model; its family's defaults (few steps for Turbo, LCM...) are applied when they can be told."""
        try:
            ref = ModelRef.parse(text)
        except GenerationError as exc:
            self._status(str(exc), error=True)
            return False
        changed = text != self.panel.model
        self.panel.model = text
        if changed:
            family = detect_family(ref) or family_from_name(ref.name)
            self.panel.apply_family_defaults(family)
            self._status(f"{ref.name}: {family.label}{', ' + family.distilled if family.distilled else ''}.")
        write_panel(self.storage, PanelValues.from_mapping(self.panel.values()))
        return True

    # -- the project file ---------------------------------------------------------------
    def project_extras(self) -> dict[str, bytes]:
        return encode_history(list(self.strip.entries), self.panel.values()) | encode_references(
            self.references.references
        )

    def restore(self, extras: dict[str, bytes]) -> None:
        """Show the history (and panel settings) saved in a project; an empty dict clears the strip."""
        self.compare(None)
        entries, settings, warnings = decode_history(extras)
        references, reference_warnings = decode_references(extras)
        self.references.set_references(references)
        warnings += reference_warnings
        self.strip.history.replace_all(entries)  # stored newest first, as the history keeps them
        self.last_result = entries[0].result if entries else None
        if settings:
            with contextlib.suppress(TypeError, ValueError):
                self.panel.set_values(settings)
        if warnings:
            self._status(" ".join(warnings), error=True)

    def shutdown(self) -> bool:
        return self.controller.shutdown() if self.controller is not None else True
