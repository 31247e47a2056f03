"""Image import converts every common kind of file and refuses bad ones with a clear sentence."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sketchdiffuse.io import ImageImportError
from sketchdiffuse.io.images import export_image, open_image
from sketchdiffuse.io.png_meta import format_parameters, parse_parameters
from tests.images import read_image


def save(im: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def test_rgba_png_is_premultiplied():
    data = save(Image.new("RGBA", (3, 2), (200, 100, 50, 128)), "PNG")
    img = open_image(data)
    assert (img.width, img.height) == (3, 2)
    assert img.pixels[0, 0].tolist() == [100, 50, 25, 128]


@pytest.mark.parametrize(
    ("image", "fmt", "expected"),
    [
        (Image.new("L", (4, 4), 77), "PNG", [77, 77, 77, 255]),
        (Image.new("LA", (4, 4), (255, 0)), "PNG", [0, 0, 0, 0]),
        (Image.new("I;16", (4, 4), 65535), "PNG", [255, 255, 255, 255]),
        (Image.new("CMYK", (4, 4), (0, 255, 255, 0)), "JPEG", None),
        (Image.new("RGB", (4, 4), (0, 0, 255)).convert("P"), "GIF", [0, 0, 255, 255]),
        (Image.new("RGB", (4, 4), (0, 255, 0)), "TIFF", [0, 255, 0, 255]),
        (Image.new("RGB", (4, 4), (10, 20, 30)), "WEBP", None),
    ],
)
def test_modes_and_formats_convert(image: Image.Image, fmt: str, expected: list[int] | None):
    img = open_image(save(image, fmt, **({"lossless": True} if fmt == "WEBP" else {})))
    assert img.pixels.dtype == np.uint8 and img.pixels.shape == (4, 4, 4)
    if expected is not None:
        assert img.pixels[1, 1].tolist() == expected
    if fmt == "JPEG":  # CMYK red comes out red
        r, g, b, a = img.pixels[1, 1].tolist()
        assert r > 200 and g < 60 and b < 60 and a == 255


def test_sixteen_bit_grey_keeps_its_levels():
    arr = np.full((2, 2), 32768, dtype=np.uint16)
    img = open_image(save(Image.fromarray(arr), "PNG"))
    assert img.pixels[0, 0, 0] == 128


def test_exif_orientation_is_applied():
    im = Image.new("RGB", (4, 2), (255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    img = open_image(save(im, "JPEG", exif=exif.tobytes()))
    assert (img.width, img.height) == (2, 4)


def test_bad_files_get_clear_errors(tmp_path: Path):
    good = save(Image.new("RGB", (64, 64), (1, 2, 3)), "PNG")
    with pytest.raises(ImageImportError, match="damaged or truncated"):
        open_image(good[: len(good) // 2])
    with pytest.raises(ImageImportError, match="not an image"):
        open_image(b"this is text, not a picture")
    fake = tmp_path / "notes.png"
    fake.write_text("hello")
    with pytest.raises(ImageImportError, match=r"'notes\.png' is not an image"):
        open_image(fake)
    with pytest.raises(ImageImportError, match="could not be opened"):
        open_image(tmp_path / "missing.png")
    for fmt in ("JPEG", "WEBP"):
        data = save(Image.new("RGB", (64, 64), (1, 2, 3)), fmt)
        with pytest.raises(ImageImportError):
            open_image(data[:40])


def test_decompression_bombs_are_refused_before_decoding():
    # A 30000 x 30000 PNG of zeros compresses to a few hundred KB; it must not be decoded.
    big = save(Image.new("1", (30000, 30000)), "PNG")
    with pytest.raises(ImageImportError, match="more than the limit of 67 megapixels"):
        open_image(big)
    # Below Pillow's own guard but over ours, the message names the size.
    with pytest.raises(ImageImportError, match="has 9000 x 9000 pixels, more than the limit"):
        open_image(save(Image.new("1", (9000, 9000)), "PNG"))


def test_export_png_jpeg_webp(tmp_path: Path):
    px = np.zeros((8, 8, 4), dtype=np.uint8)
    px[:4] = (100, 0, 0, 100)
    for name in ("a.png", "a.jpg", "a.webp"):
        export_image(px, tmp_path / name, text={"parameters": "x"})
        back = read_image(tmp_path / name)
        assert back.size == (8, 8)
    assert read_image(tmp_path / "a.png").getpixel((0, 0)) == (255, 0, 0, 100)
    assert read_image(tmp_path / "a.jpg").getpixel((0, 7))[0] > 250  # transparent becomes white
    with pytest.raises(ImageImportError, match="export as"):
        export_image(px, tmp_path / "a.bmp")


def test_parameters_round_trip_with_any_script(tmp_path: Path):
    prompt = "красивый закат, 山の上の城, قلعة " + "word " * 2000
    text = format_parameters(
        prompt,
        'blurry, "low" quality',
        {
            "Steps": 20,
            "Sampler": "DPM++ 2M Karras",
            "CFG scale": 7.0,
            "Seed": 1234,
            "Size": "512x512",
            "Model hash": "abc123",
            "Model": "my model, v2",
            "Denoising strength": 0.6,
        },
    )
    export_image(np.zeros((4, 4, 4), dtype=np.uint8), tmp_path / "p.png", text={"parameters": text})
    stored = read_image(tmp_path / "p.png").text["parameters"]
    assert stored == text
    p, n, settings = parse_parameters(stored)
    assert p == prompt.strip()
    assert n == 'blurry, "low" quality'
    assert settings["Sampler"] == "DPM++ 2M Karras"
    assert settings["Model"] == "my model, v2"
    assert settings["Seed"] == "1234" and settings["Size"] == "512x512"


def test_parse_a1111_text():
    text = "a cat\non a mat\nNegative prompt: dog\nSteps: 4, Sampler: Euler a, CFG scale: 0, Seed: 7, Size: 512x768"
    assert parse_parameters(text) == (
        "a cat\non a mat",
        "dog",
        {"Steps": "4", "Sampler": "Euler a", "CFG scale": "0", "Seed": "7", "Size": "512x768"},
    )
    assert parse_parameters("just a prompt") == ("just a prompt", "", {})
