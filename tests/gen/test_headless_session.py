"""The application's core without a window: in a process where PySide6 cannot be imported, open a
committed project, paint, generate through the job queue, apply, undo and save."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "projects" / "release-0.1.ora"

SCRIPT = textwrap.dedent(
    """
    import sys
    sys.modules["PySide6"] = None  # any import of Qt now fails
    from dataclasses import replace
    from pathlib import Path

    from sketchdiffuse.brush.engine import replay_stroke
    from sketchdiffuse.brush.settings import BrushSettings
    from sketchdiffuse.brush.stroke import StrokePoint
    from sketchdiffuse.generation import Engine
    from sketchdiffuse.session.document_session import DocumentSession
    from sketchdiffuse.session.local_jobs import LocalJobs
    from sketchdiffuse.session.settings import RunSettings

    project, model, out = (Path(a) for a in sys.argv[1:4])
    session = DocumentSession.open(project)
    assert [ly.name for ly in session.doc.layers] == ["Background", "Ink"] and not session.modified
    assert len(session.results.entries) == 1  # the history saved in the project

    points = [StrokePoint(4 + i, 20) for i in range(30)]
    brush = BrushSettings(size=5, color=(255, 0, 0))
    session.history.push(replay_stroke(session.doc, session.doc.active_layer, points, brush))
    assert session.modified and tuple(session.doc.composite()[20, 10, :3]) != (255, 255, 255)

    session.panel = replace(session.panel, model=str(model), prompt="a cat", steps=2, strength=0.5,
                            guidance_scale=7.0, seed=4_000_000_000, seed_locked=True, scheduler="Euler")
    session.run = RunSettings(device="cpu", precision="fp32")
    delivered = []
    jobs = LocalJobs(Engine(), lambda job, result: (session.keep(result), delivered.append(job)))
    jobs.generate_batch(session.request(), 2)
    assert [j.request.seed for j in delivered] == [4_000_000_000, 4_000_000_001]
    assert [e.result.seed for e in session.results.entries[:2]] == [4_000_000_001, 4_000_000_000]

    layer = session.apply(session.results.entries[0].result)
    assert len(session.doc.layers) == 3 and session.doc.layers[2] is layer
    session.history.undo()
    assert len(session.doc.layers) == 2
    session.history.redo()
    session.save(out)
    assert not session.modified

    again = DocumentSession.open(out)
    assert [ly.name for ly in again.doc.layers][:2] == ["Background", "Ink"] and len(again.doc.layers) == 3
    assert [e.result.seed for e in again.results.entries] == [4_000_000_001, 4_000_000_000, 4_000_000_000]
    assert again.panel.seed == 4_000_000_000 and again.panel.prompt == "a cat"
    assert sys.modules["PySide6"] is None and not any(m.startswith("PySide6.") for m in sys.modules)
    print("headless session ok")
    """
)


def test_open_paint_generate_apply_undo_save_without_qt(tiny_sd: Path, tmp_path: Path):
    project = tmp_path / "project.ora"
    shutil.copy(FIXTURE, project)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(project), str(tiny_sd), str(tmp_path / "saved.ora")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "headless session ok" in done.stdout


def test_local_jobs_go_on_after_a_failed_job(tiny_sd: Path, tmp_path: Path):
    import pytest

    from sketchdiffuse.generation import Engine, ModelRef
    from sketchdiffuse.generation.errors import GenerationError
    from sketchdiffuse.generation.request import GenerationRequest
    from sketchdiffuse.session.local_jobs import LocalJobs

    delivered = []
    jobs = LocalJobs(Engine(), lambda job, result: delivered.append(result))
    (tmp_path / "empty-model").mkdir()
    missing = GenerationRequest("a cat", ModelRef.parse(str(tmp_path / "empty-model")), strength=1.0, steps=2)
    with pytest.raises(GenerationError):
        jobs.generate(missing)
    assert not jobs.queue.busy
    jobs.generate(GenerationRequest("a cat", ModelRef.parse(str(tiny_sd)), strength=1.0, steps=2, seed=1))
    assert len(delivered) == 1 and not jobs.queue.busy
