"""``sketchdiffuse generate`` end to end, with the PNG parameters read back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from sketchdiffuse.document import Document
from sketchdiffuse.io.ora import write_ora
from sketchdiffuse.io.png_meta import parse_parameters


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sketchdiffuse", "generate", *args], capture_output=True, text=True, timeout=300
    )


def test_generate_writes_a_png_with_a1111_parameters(tiny_sd: Path, tmp_path: Path):
    sketch = tmp_path / "sketch.png"
    Image.fromarray(np.random.default_rng(2).integers(0, 256, (50, 70, 3), dtype=np.uint8)).save(sketch)
    out = tmp_path / "out.png"
    done = run_cli(
        str(sketch),
        "--prompt",
        "a castle, 城",
        "--negative",
        "blurry",
        "--strength",
        "0.5",
        "--steps",
        "6",
        "--guidance",
        "6.5",
        "--seed",
        "42",
        "--scheduler",
        "DDIM",
        "--model",
        str(tiny_sd),
        "-o",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    assert "step 3/3" in done.stderr
    image = Image.open(out)
    assert image.size == (70, 50)
    prompt, negative, settings = parse_parameters(image.text["parameters"])
    assert (prompt, negative) == ("a castle, 城", "blurry")
    assert settings["Steps"] == "6" and settings["Sampler"] == "DDIM" and settings["CFG scale"] == "6.5"
    assert settings["Seed"] == "42" and settings["Size"] == "70x50" and settings["Denoising strength"] == "0.5"
    assert settings["Model"] == tiny_sd.name and len(settings["Model hash"]) == 10


def test_generate_from_an_ora_and_clear_errors(tiny_sd: Path, tmp_path: Path):
    doc = Document(40, 40)
    doc.layers[0].pixels[:] = (0, 0, 255, 255)
    project = tmp_path / "p.ora"
    write_ora(doc, project)
    out = tmp_path / "o.png"
    done = run_cli(
        str(project), "--prompt", "sea", "--steps", "2", "--strength", "1", "--model", str(tiny_sd), "-o", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert Image.open(out).size == (40, 40)
    missing = run_cli(str(project), "--prompt", "sea", "--model", str(tmp_path / "nope"), "-o", str(out))
    assert missing.returncode == 1 and "No model at" in missing.stderr
    bad = tmp_path / "bad.png"
    bad.write_text("text")
    broken = run_cli(str(bad), "--prompt", "sea", "--model", str(tiny_sd), "-o", str(out))
    assert broken.returncode == 1 and "not an image" in broken.stderr
