"""``sketchdiffuse generate`` end to end, with the PNG parameters read back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sketchdiffuse.cli import main
from sketchdiffuse.document import Document
from sketchdiffuse.io.ora import write_ora
from sketchdiffuse.io.png_meta import parse_parameters
from tests.images import read_image


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
    image = read_image(out)
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
    assert read_image(out).size == (40, 40)
    missing = run_cli(str(project), "--prompt", "sea", "--model", str(tmp_path / "nope"), "-o", str(out))
    assert missing.returncode == 1 and "No model at" in missing.stderr
    bad = tmp_path / "bad.png"
    bad.write_text("text")
    broken = run_cli(str(bad), "--prompt", "sea", "--model", str(tiny_sd), "-o", str(out))
    assert broken.returncode == 1 and "not an image" in broken.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--strength", "2"], "strength must be from 0 to 1"),
        (["--strength", "lots"], "'lots' is not a number"),
        (["--steps", "0"], "steps must be from 1 to 500"),
        (["--guidance", "-1"], "guidance must be from 0 to 50"),
        (["--seed", str(2**32)], "seed must be from 0 to 4294967295"),
        (["--scheduler", "Heun"], "invalid choice: 'Heun'"),
    ],
)
def test_bad_arguments_are_refused_before_any_model_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
):
    """The default model is a Hub id: reaching the loader would try a download. Nothing may get that far."""
    sketch = tmp_path / "s.png"
    Image.new("RGB", (8, 8)).save(sketch)
    with pytest.raises(SystemExit) as stopped:
        main(["generate", str(sketch), "--prompt", "x", "-o", str(tmp_path / "o.png"), *args])
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and message in err
    assert "downloading" not in err and "loading" not in err


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("missing-folder/out.png", "the folder"),
        ("out.jpg", "must be a .png file"),
        (".", "is a folder"),
        ("locked/out.png", "cannot write into"),
    ],
)
def test_an_unusable_output_is_reported_first_and_plainly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, output: str, message: str
):
    import tempfile

    sketch = tmp_path / "s.png"
    Image.new("RGB", (8, 8)).save(sketch)
    (tmp_path / "locked").mkdir()
    real = tempfile.TemporaryFile

    def refuse_locked(*a, dir=None, **kw):  # root may write anywhere, so the refusal is the OS's answer, injected
        if dir is not None and Path(dir).name == "locked":
            raise PermissionError(13, "Permission denied")
        return real(*a, dir=dir, **kw)

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse_locked)
    monkeypatch.chdir(tmp_path)
    code = main(["generate", str(sketch), "--prompt", "x", "-o", output])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "tmp" not in err.replace(str(tmp_path), "")
    assert "loading" not in err


def test_generate_with_an_sdxl_refiner(tiny_sdxl: Path, tiny_refiner: Path, tmp_path: Path):
    sketch = tmp_path / "sketch.png"
    Image.fromarray(np.full((64, 64, 3), 200, np.uint8)).save(sketch)
    out = tmp_path / "out.png"
    common = ["--prompt", "a cat", "--strength", "0.6", "--steps", "10", "--seed", "3", "--model", str(tiny_sdxl)]
    done = run_cli(str(sketch), *common, "--refiner", str(tiny_refiner), "--refiner-switch", "0.7", "-o", str(out))
    assert done.returncode == 0, done.stderr
    _, _, settings = parse_parameters(read_image(out).text["parameters"])
    assert settings["Refiner"].startswith("tiny-refiner [") and settings["Refiner switch at"] == "0.7"
    refused = run_cli(str(sketch), *common, "--refiner-switch", "1.5", "-o", str(out))
    assert refused.returncode == 2 and "refiner switch" in refused.stderr


def test_generate_with_the_family_given_on_the_command_line(tiny_sd: Path, tmp_path: Path):
    import torch
    from safetensors.torch import save_file

    odd = tmp_path / "odd.safetensors"
    save_file({"model.diffusion_model.odd_block.weight": torch.zeros(4, 4)}, odd)
    sketch = tmp_path / "sketch.png"
    Image.fromarray(np.full((64, 64, 3), 200, np.uint8)).save(sketch)
    args = [str(sketch), "--prompt", "a cat", "--steps", "2", "--model", str(odd), "-o", str(tmp_path / "o.png")]
    unknown = run_cli(*args)
    assert unknown.returncode != 0 and "does not recognise" in unknown.stderr and "--family sd1|" in unknown.stderr
    told = run_cli(*args, "--family", "sd1", "--config", str(tiny_sd))
    # Told the family, it is loaded as SD 1.x: the weights then do not fit, which is said plainly.
    assert told.returncode != 0 and "does not recognise" not in told.stderr and "odd" in told.stderr


def test_generate_with_a_mask_changes_only_the_masked_part(tiny_sd: Path, tmp_path: Path, capsys):
    rng = np.random.default_rng(5)
    sketch_pixels = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    Image.fromarray(sketch_pixels).save(tmp_path / "sketch.png")
    mask = np.zeros((60, 80), np.uint8)
    mask[20:45, 40:70] = 255
    mask[20:45, 38:40] = 128  # grey regenerates partly
    Image.fromarray(mask).save(tmp_path / "mask.png")
    out = tmp_path / "out.png"
    base = ["generate", str(tmp_path / "sketch.png"), "--prompt", "a cat", "--model", str(tiny_sd), "--seed", "3"]
    code = main([*base, "--strength", "1", "--steps", "2", "--mask", str(tmp_path / "mask.png"), "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    picture = np.asarray(Image.open(out).convert("RGB"))
    assert picture.shape == (60, 80, 3)  # the whole picture
    assert np.array_equal(picture[mask == 0], sketch_pixels[mask == 0])  # black keeps
    assert (picture[mask == 255] != sketch_pixels[mask == 255]).any()
    Image.fromarray(mask[:30]).save(tmp_path / "small.png")
    assert main([*base, "--mask", str(tmp_path / "small.png"), "-o", str(out)]) == 1
    assert "must be the same size" in capsys.readouterr().err


def test_generate_with_a_control_and_a_lora(tiny_sd: Path, tiny_controlnet: Path, tiny_lora: Path, tmp_path: Path):
    sketch, lines, out = tmp_path / "sketch.png", tmp_path / "lines@home.png", tmp_path / "out.png"
    Image.fromarray(np.full((64, 64, 3), 200, np.uint8)).save(sketch)
    drawn = np.full((64, 64, 3), 255, np.uint8)
    drawn[20:44, 20:23] = 0  # a dark stroke on white
    Image.fromarray(drawn).save(lines)
    common = [str(sketch), "--prompt", "a cat", "--steps", "4", "--seed", "1", "--model", str(tiny_sd)]
    done = run_cli(
        *common,
        "--control",
        f"scribble={lines}@0.7",  # an @ in the file name and a weight after the last one
        "--control-model",
        f"scribble={tiny_controlnet}",
        "--lora",
        f"{tiny_lora}@0.5",
        "-o",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    prompt, _, settings = parse_parameters(read_image(out).text["parameters"])
    assert prompt == f"a cat <lora:{tiny_lora.stem}:0.5>"
    assert settings["ControlNet 0"].startswith("Module: scribble, Model: scribble, Weight: 0.7")
    plain = run_cli(*common, "-o", str(tmp_path / "plain.png"))
    assert plain.returncode == 0
    assert not np.array_equal(np.asarray(read_image(out)), np.asarray(read_image(tmp_path / "plain.png")))
    missing = run_cli(*common, "--control", f"canny={lines}", "-o", str(tmp_path / "x.png"))
    assert missing.returncode == 1 and "needs its ControlNet: --control-model canny=MODEL" in missing.stderr


def test_weights_after_paths_with_drive_letters_and_at_signs():
    from sketchdiffuse.cli import _weighted

    assert _weighted(r"C:\loras\ink style.safetensors@0.8") == (r"C:\loras\ink style.safetensors", 0.8)
    assert _weighted(r"D:\me@home\style.safetensors") == (r"D:\me@home\style.safetensors", 1.0)
    assert _weighted("style.safetensors@-1.5") == ("style.safetensors", -1.5)


def test_generate_with_a_reference_through_an_ip_adapter(tiny_sd: Path, tiny_ip_adapter: Path, tmp_path: Path):
    sketch, reference, out = tmp_path / "sketch.png", tmp_path / "look.png", tmp_path / "out.png"
    Image.fromarray(np.full((64, 64, 3), 200, np.uint8)).save(sketch)
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (48, 48, 3), dtype=np.uint8)).save(reference)
    common = [str(sketch), "--prompt", "a cat", "--steps", "4", "--seed", "1", "--model", str(tiny_sd)]
    done = run_cli(*common, "--reference", f"{reference}@0.8", "--ip-adapter", str(tiny_ip_adapter), "-o", str(out))
    assert done.returncode == 0, done.stderr
    _, _, settings = parse_parameters(read_image(out).text["parameters"])
    assert settings["IP Adapter"] == "ip-adapter.safetensors, weights 0.8"
    refused = run_cli(*common, "--reference", str(reference), "-o", str(tmp_path / "x.png"))
    assert refused.returncode == 1 and "through an IP-Adapter: add --ip-adapter" in refused.stderr
    assert "loading" not in refused.stderr  # refused before any model loads


def test_an_ora_with_a_control_layer_steers_and_odd_arguments_are_refused_before_loading(
    tiny_sd: Path, tiny_controlnet: Path, tmp_path: Path
):
    from sketchdiffuse.document.control_role import ControlRole
    from sketchdiffuse.document.layer import Layer

    doc = Document(64, 64)
    doc.layers[0].pixels[:] = (200, 200, 200, 255)
    lines = np.zeros((64, 64, 4), np.uint8)
    lines[10:54, 30:33] = (0, 0, 0, 255)
    doc.layers.append(Layer("Lines", lines, control=ControlRole("scribble", str(tiny_controlnet), 0.8)))
    write_ora(doc, tmp_path / "lines.ora")
    common = ["--prompt", "a cat", "--steps", "4", "--seed", "1", "--model", str(tiny_sd)]
    done = run_cli(str(tmp_path / "lines.ora"), *common, "-o", str(tmp_path / "out.png"))
    assert done.returncode == 0, done.stderr
    _, _, settings = parse_parameters(read_image(tmp_path / "out.png").text["parameters"])
    assert settings["ControlNet 0"].startswith("Module: scribble")
    for extra, says in (
        (["--control-model", f"canny={tiny_controlnet}"], "names a ControlNet for no --control canny"),
        (["--ip-adapter", "somewhere.safetensors"], "add --reference"),
        (["--control", "depth=x.png"], "KIND one of scribble, lineart, canny"),
    ):
        refused = run_cli(str(tmp_path / "lines.ora"), *common, *extra, "-o", str(tmp_path / "x.png"))
        assert refused.returncode == 1 and says in refused.stderr and "loading" not in refused.stderr
