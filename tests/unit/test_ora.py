"""OpenRaster: exact round trips, an independent implementation both ways, hostile files refused."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sketchdiffuse.document import BlendMode, Document, Layer
from sketchdiffuse.io import DocumentFormatError
from sketchdiffuse.io.ora import read_ora, write_ora
from sketchdiffuse.io.pixels import premultiply, unpremultiply

pyora = pytest.importorskip("pyora")


def random_premultiplied(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    px = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    px[..., :3] = np.minimum(px[..., :3], px[..., 3:4])
    px[: h // 4] = 0  # some empty rows so layers get cropped with offsets
    return px


def sample_document() -> Document:
    rng = np.random.default_rng(1)
    layers = [
        Layer("Paper", random_premultiplied(rng, 40, 60)),
        Layer("Ink", random_premultiplied(rng, 40, 60), opacity=0.55, blend_mode=BlendMode.MULTIPLY),
        Layer("Hidden", random_premultiplied(rng, 40, 60), visible=False, locked=True, blend_mode=BlendMode.SOFT_LIGHT),
        Layer("Empty ✓ ünïcode", np.zeros((40, 60, 4), np.uint8), blend_mode=BlendMode.PLUS),
    ]
    doc = Document(60, 40, layers)
    doc.active_index = 1
    return doc


def test_round_trip_is_exact(tmp_path: Path):
    doc = sample_document()
    path = tmp_path / "a.ora"
    write_ora(doc, path, extras={"history/index.json": b"{}"})
    back = read_ora(path)
    assert back.warnings == []
    assert back.extras == {"history/index.json": b"{}"}
    d = back.document
    assert (d.width, d.height, d.active_index) == (60, 40, 1)
    for a, b in zip(doc.layers, d.layers, strict=True):
        assert (a.name, a.opacity, a.visible, a.blend_mode, a.locked) == (
            b.name,
            b.opacity,
            b.visible,
            b.blend_mode,
            b.locked,
        )
        assert np.array_equal(a.pixels, b.pixels)


def test_file_layout_follows_the_baseline_spec(tmp_path: Path):
    path = tmp_path / "a.ora"
    write_ora(sample_document(), path)
    with zipfile.ZipFile(path) as z:
        first = z.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert z.read("mimetype") == b"image/openraster"
        # The mimetype must be readable at a fixed offset by file-type sniffers.
        raw = path.read_bytes()
        assert raw[30:38] == b"mimetype" and raw[38:54] == b"image/openraster"
        names = set(z.namelist())
        assert {"stack.xml", "mergedimage.png", "Thumbnails/thumbnail.png"} <= names
        thumb = Image.open(io.BytesIO(z.read("Thumbnails/thumbnail.png")))
        assert max(thumb.size) <= 256
        stack = z.read("stack.xml").decode()
        assert stack.index('name="Empty') < stack.index('name="Paper"')  # top layer first
        assert 'composite-op="svg:multiply"' in stack and 'visibility="hidden"' in stack


def test_written_by_us_read_by_pyora(tmp_path: Path):
    doc = sample_document()
    path = tmp_path / "ours.ora"
    write_ora(doc, path)
    project = pyora.Project.load(str(path))
    theirs = list(project.iter_layers)
    by_name = {layer.name: layer for layer in theirs}
    # pyora's children are in stack.xml order: the top layer first.
    assert [c.name for c in project.children] == [ly.name for ly in reversed(doc.layers)]
    for layer in doc.layers:
        other = by_name[layer.name]
        assert float(other.opacity) == pytest.approx(layer.opacity, abs=1e-6)
        assert other.visible == layer.visible
        assert other.composite_op == layer.blend_mode.ora_op
        canvas = np.zeros((40, 60, 4), np.uint8)
        img = np.asarray(other.get_image_data(raw=True).convert("RGBA"))
        x, y = other.offsets
        canvas[y : y + img.shape[0], x : x + img.shape[1]] = img
        assert np.array_equal(canvas, unpremultiply(layer.pixels))


def test_written_by_pyora_read_by_us(tmp_path: Path):
    rng = np.random.default_rng(5)
    project = pyora.Project.new(50, 30)
    straight = []
    for i, op in enumerate(("svg:src-over", "svg:screen", "svg:color-burn")):
        px = rng.integers(0, 256, (10 + i, 20, 4), dtype=np.uint8)
        straight.append(px)
        project.add_layer(
            Image.fromarray(px, "RGBA"),
            f"/L{i}",
            offsets=(5 * i, 3 * i),
            opacity=0.25 * (i + 1),
            visible=i != 1,
            composite_op=op,
        )
    path = tmp_path / "theirs.ora"
    project.save(str(path))
    contents = read_ora(path)
    doc = contents.document
    assert [ly.name for ly in doc.layers] == ["L0", "L1", "L2"]
    assert [ly.blend_mode for ly in doc.layers] == [BlendMode.NORMAL, BlendMode.SCREEN, BlendMode.COLOR_BURN]
    assert [ly.opacity for ly in doc.layers] == [0.25, 0.5, 0.75]
    assert [ly.visible for ly in doc.layers] == [True, False, True]
    for i, layer in enumerate(doc.layers):
        expected = np.zeros((30, 50, 4), np.uint8)
        h = straight[i].shape[0]
        expected[3 * i : 3 * i + h, 5 * i : 5 * i + 20] = premultiply(straight[i])
        assert np.array_equal(layer.pixels, expected)


def test_offsets_outside_the_canvas_are_cropped_and_unknown_ops_warn(tmp_path: Path):
    red = io.BytesIO()
    Image.new("RGBA", (10, 10), (255, 0, 0, 255)).save(red, "PNG")
    stack = (
        '<image w="8" h="8"><stack>'
        '<layer name="k" src="data/a.png" x="-5" y="4" composite-op="krita:dissolve"/>'
        "</stack></image>"
    )
    path = make_ora(tmp_path, stack, {"data/a.png": red.getvalue()})
    contents = read_ora(path)
    layer = contents.document.layers[0]
    assert layer.blend_mode is BlendMode.NORMAL
    assert any("krita:dissolve" in w for w in contents.warnings)
    assert layer.pixels[4:, :5, 3].min() == 255
    assert layer.pixels[:4, :, 3].max() == 0 and layer.pixels[:, 5:, 3].max() == 0


def make_ora(tmp_path: Path, stack_xml: str, members: dict[str, bytes], name: str = "x.ora") -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", b"image/openraster")
        z.writestr("stack.xml", stack_xml)
        for member, data in members.items():
            z.writestr(member, data)
    return path


def png_bytes(size: tuple[int, int] = (4, 4)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", size, (0, 0, 0, 255)).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("stack", "members", "message"),
    [
        ('<image w="4" h="4"><stack><layer src="../evil.png"/></stack></image>', {}, "outside the file"),
        ('<image w="4" h="4"><stack><layer src="data/../../x.png"/></stack></image>', {}, "outside the file"),
        ('<image w="4" h="4"><stack><layer src="/etc/passwd"/></stack></image>', {}, "absolute"),
        ('<image w="4" h="4"><stack><layer src="C:/x.png"/></stack></image>', {}, "absolute"),
        ('<image w="4" h="4"><stack><layer src="data/missing.png"/></stack></image>', {}, "missing"),
        (
            '<image w="4" h="4"><stack><layer src="data/a.png" x="left"/></stack></image>',
            {"data/a.png": png_bytes()},
            "not a number",
        ),
        ('<image w="four" h="4"><stack/></image>', {}, "not a number"),
        ('<image w="100000" h="4"><stack/></image>', {}, "between 1 and 8192"),
        (
            '<image w="4" h="4"><stack><layer src="data/a.png" x="1e12"/></stack></image>',
            {"data/a.png": png_bytes()},
            "absurd offset",
        ),
        ('<image w="4" h="4"><stack><layer', {}, "not valid XML"),
        (
            '<image w="4" h="4"><stack><layer src="data/a.png"/></stack></image>',
            {"data/a.png": b"garbage"},
            "cannot be read",
        ),
        (
            '<image w="4" h="4"><stack><layer src="data/a.png"/></stack></image>',
            {"data/a.png": png_bytes((9000, 9000))},
            "cannot be read",
        ),
        ("<html/>", {}, "does not describe an image"),
    ],
)
def test_hostile_files_are_refused_clearly(tmp_path: Path, stack: str, members: dict[str, bytes], message: str):
    path = make_ora(tmp_path, stack, members)
    with pytest.raises(DocumentFormatError, match=message):
        read_ora(path)


def test_not_a_zip_or_missing_stack(tmp_path: Path):
    junk = tmp_path / "junk.ora"
    junk.write_bytes(b"PK\x03\x04 but not really")
    with pytest.raises(DocumentFormatError, match="not a valid zip"):
        read_ora(junk)
    path = tmp_path / "nostack.ora"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", b"image/openraster")
    with pytest.raises(DocumentFormatError, match=r"no stack\.xml"):
        read_ora(path)
    with pytest.raises(DocumentFormatError, match="does not exist"):
        read_ora(tmp_path / "nothing.ora")


def test_zip_bomb_is_refused_without_unpacking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import sketchdiffuse.io.ora as ora

    # A 64 MiB member of zeros deflates to ~64 KiB; with the limit lowered it counts as a bomb.
    monkeypatch.setattr(ora, "MAX_MEMBER_BYTES", 1 << 20)
    path = tmp_path / "bomb.ora"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", b"image/openraster")
        z.writestr("stack.xml", '<image w="4" h="4"><stack><layer src="data/a.png"/></stack></image>')
        z.writestr("data/a.png", b"\0" * (64 << 20))
    assert path.stat().st_size < 1 << 20
    with pytest.raises(DocumentFormatError, match="safety limit"):
        read_ora(path)
    monkeypatch.setattr(ora, "MAX_TOTAL_BYTES", 1 << 20)
    with pytest.raises(DocumentFormatError, match="refusing to open"):
        read_ora(path)


def test_nested_groups_load_as_layers_with_a_warning(tmp_path: Path):
    stack = (
        '<image w="4" h="4"><stack><stack name="G" opacity="0.5">'
        '<layer name="a" src="data/a.png" opacity="0.5"/></stack>'
        '<layer name="b" src="data/a.png"/></stack></image>'
    )
    contents = read_ora(make_ora(tmp_path, stack, {"data/a.png": png_bytes()}))
    assert [ly.name for ly in contents.document.layers] == ["b", "a"]
    assert contents.document.layers[1].opacity == 0.25
    assert any("group" in w for w in contents.warnings)


def test_a_failed_save_leaves_the_old_file_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "keep.ora"
    write_ora(sample_document(), path)
    original = path.read_bytes()
    import sketchdiffuse.io.atomic as atomic

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_ora(Document(10, 10), path)
    assert path.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["keep.ora"]  # no temporary file left behind
