"""OpenRaster (.ora) reading and writing, baseline profile.

Layout: ``mimetype`` (first, stored), ``stack.xml`` (first child = top layer),
``data/*.png`` (straight RGBA, cropped to content with x/y offsets), ``mergedimage.png``
and ``Thumbnails/thumbnail.png``. sketchdiffuse keeps its own extras (the history
strip) under ``sketchdiffuse/``, which other programs ignore.
"""

from __future__ import annotations

import io
import logging
import math
import os
import posixpath
import struct
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from sketchdiffuse.document.blend import BlendMode
from sketchdiffuse.document.control_role import ControlRole
from sketchdiffuse.document.document import MAX_SIDE, Document, check_size
from sketchdiffuse.document.errors import DocumentError
from sketchdiffuse.document.frame import Frame
from sketchdiffuse.document.layer import Layer, blank_pixels
from sketchdiffuse.io.atomic import atomic_writer
from sketchdiffuse.io.errors import DocumentFormatError, ImageImportError
from sketchdiffuse.io.images import encode_png, open_image, straight_image

log = logging.getLogger(__name__)

MIMETYPE = b"image/openraster"
EXTRAS_PREFIX = "sketchdiffuse/"
THUMBNAIL_MAX = 256
FRAME_ATTRIBUTE = "sketchdiffuse-frame"  # on <image>: Document.frame, absent when it is the first canvas
# Guards against zip bombs: no archive member, and no archive in total, may unpack past these.
MAX_MEMBER_BYTES = 1 << 30
MAX_TOTAL_BYTES = 4 << 30
MAX_STACK_XML_BYTES = 4 << 20
MAX_LAYERS = 1000
# What a damaged archive raises from zipfile, zlib and the XML parser: corrupted deflate streams
# (zlib.error), unknown zip versions or methods (NotImplementedError), a mangled XML encoding
# declaration (LookupError), bad header fields (ValueError, struct.error).
DAMAGED_ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    EOFError,
    RuntimeError,
    OSError,
    NotImplementedError,
    LookupError,
    ValueError,
)


@dataclass
class OraContents:
    document: Document
    warnings: list[str] = field(default_factory=list)
    extras: dict[str, bytes] = field(default_factory=dict)  # names relative to EXTRAS_PREFIX


# -- reading ----------------------------------------------------------------------------------


def _number(elem: ET.Element, name: str, default: float, what: str) -> float:
    raw = elem.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise DocumentFormatError(f"{what}: attribute {name}='{raw}' is not a number.") from exc
    if not np.isfinite(value):
        raise DocumentFormatError(f"{what}: attribute {name}='{raw}' is not a finite number.")
    return value


def _safe_member(src: str, names: set[str], what: str) -> str:
    """The archive member a layer's ``src`` names; paths leaving the archive are refused.

    Members are only ever read by name, never extracted, but a ``..`` or a drive or absolute
    path is a sign of a crafted file. One exception: some writers store members with a
    leading slash and name them so in ``src``; that exact member name is accepted.
    """
    if "\\" in src or "\x00" in src or ".." in src.split("/"):
        raise DocumentFormatError(f"{what}: layer path '{src}' points outside the file; the file is unsafe.")
    if src.startswith("/") or ":" in src.split("/")[0]:
        if src in names and src.startswith("/") and ".." not in src:
            return src
        raise DocumentFormatError(f"{what}: layer path '{src}' is absolute; the file is damaged or unsafe.")
    norm = posixpath.normpath(src) if src else ""
    if norm not in names:
        raise DocumentFormatError(f"{what}: the layer image '{src}' is missing from the file.")
    return norm


def _read_member(archive: zipfile.ZipFile, name: str, what: str) -> bytes:
    info = archive.getinfo(name)
    if info.file_size > MAX_MEMBER_BYTES:
        raise DocumentFormatError(f"{what}: '{name}' unpacks to {info.file_size} bytes, over the safety limit.")
    with archive.open(info) as member:
        data = member.read(MAX_MEMBER_BYTES + 1)
    if len(data) > MAX_MEMBER_BYTES:
        raise DocumentFormatError(f"{what}: '{name}' unpacks past the safety limit.")
    return data


def _collect_layers(
    stack: ET.Element,
    what: str,
    out: list[tuple[ET.Element, float, bool]],
    warnings: list[str],
    opacity: float = 1.0,
    visible: bool = True,
) -> None:
    """Layers top first; nested stacks (groups) are flattened into the list with a warning."""
    for child in stack:
        if child.tag == "layer":
            out.append((child, opacity, visible))
        elif child.tag == "stack":
            warnings.append(f"Layer group '{child.get('name', '')}' was loaded as separate layers.")
            group_opacity = opacity * min(max(_number(child, "opacity", 1.0, what), 0.0), 1.0)
            _collect_layers(child, what, out, warnings, group_opacity, visible and child.get("visibility") != "hidden")
        if len(out) > MAX_LAYERS:
            raise DocumentFormatError(f"{what}: more than {MAX_LAYERS} layers; the file is damaged or unsafe.")


def read_ora(path: str | os.PathLike[str]) -> OraContents:
    """Load an OpenRaster file; any problem raises DocumentFormatError with a clear sentence."""
    what = f"'{Path(path).name}'"
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError as exc:
        raise DocumentFormatError(f"{what} does not exist.") from exc
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        raise DocumentFormatError(f"{what} is not an OpenRaster file (not a valid zip archive).") from exc
    with archive:
        try:
            return _read_archive(archive, what)
        except DAMAGED_ARCHIVE_ERRORS as exc:
            raise DocumentFormatError(f"{what} is damaged and cannot be read ({exc}).") from exc


def _read_archive(archive: zipfile.ZipFile, what: str) -> OraContents:
    infos = archive.infolist()
    if sum(i.file_size for i in infos) > MAX_TOTAL_BYTES:
        raise DocumentFormatError(f"{what} unpacks to more than {MAX_TOTAL_BYTES >> 30} GB; refusing to open it.")
    names = {i.filename for i in infos}
    warnings: list[str] = []
    if "mimetype" in names and _read_member(archive, "mimetype", what).strip() != MIMETYPE:
        raise DocumentFormatError(f"{what} is a zip file but not an OpenRaster image.")
    if "stack.xml" not in names:
        raise DocumentFormatError(f"{what} has no stack.xml; it is not an OpenRaster image.")
    if archive.getinfo("stack.xml").file_size > MAX_STACK_XML_BYTES:
        raise DocumentFormatError(f"{what}: stack.xml is implausibly large; the file is damaged or unsafe.")
    try:
        root = ET.fromstring(_read_member(archive, "stack.xml", what))
    except ET.ParseError as exc:
        raise DocumentFormatError(f"{what}: stack.xml is not valid XML ({exc}).") from exc
    if root.tag != "image":
        raise DocumentFormatError(f"{what}: stack.xml does not describe an image.")
    width = int(_number(root, "w", -1, what))
    height = int(_number(root, "h", -1, what))
    try:
        check_size(width, height)
    except DocumentError as exc:
        raise DocumentFormatError(f"{what}: {exc}") from exc
    stack = root.find("stack")
    if stack is None:
        raise DocumentFormatError(f"{what}: stack.xml has no layer stack.")
    entries: list[tuple[ET.Element, float, bool]] = []
    _collect_layers(stack, what, entries, warnings)
    layers: list[Layer] = []
    active = None
    for elem, group_opacity, group_visible in reversed(entries):  # bottom first
        layers.append(_read_layer(archive, elem, names, width, height, what, warnings, group_opacity, group_visible))
        if elem.get("selected") == "true":
            active = len(layers) - 1
    if not layers:
        warnings.append("The file has no layers; an empty one was added.")
        layers.append(Layer(name="Background", pixels=blank_pixels(width, height)))
    doc = Document(width, height, layers)
    if active is not None:
        doc.active_index = active
    doc.frame = _frame(root.get(FRAME_ATTRIBUTE), what, warnings)
    extras = {
        name[len(EXTRAS_PREFIX) :]: _read_member(archive, name, what)
        for name in sorted(names)
        if name.startswith(EXTRAS_PREFIX) and not name.endswith("/")
    }
    for message in warnings:
        log.warning("%s: %s", what, message)
    return OraContents(doc, warnings, extras)


def _frame(text: str | None, what: str, warnings: list[str]) -> Frame:
    """The document's frame (where its first canvas lies), written by sketchdiffuse; other programs omit it."""
    if text is None:
        return Frame()
    try:
        sx, sy, tx, ty = (float(v) for v in text.split())
        if not all(math.isfinite(v) for v in (sx, sy, tx, ty)) or sx <= 0 or sy <= 0:
            raise ValueError(text)
    except ValueError:
        warnings.append("The canvas frame is damaged; results made in a selection go back at today's coordinates.")
        return Frame()
    return Frame(sx, sy, tx, ty)


def _read_layer(
    archive: zipfile.ZipFile,
    elem: ET.Element,
    names: set[str],
    width: int,
    height: int,
    what: str,
    warnings: list[str],
    group_opacity: float,
    group_visible: bool,
) -> Layer:
    name = elem.get("name") or "Layer"
    src = _safe_member(elem.get("src", ""), names, what)
    x = round(_number(elem, "x", 0, what))
    y = round(_number(elem, "y", 0, what))
    if abs(x) > 4 * MAX_SIDE or abs(y) > 4 * MAX_SIDE:
        raise DocumentFormatError(f"{what}: layer '{name}' has an absurd offset ({x}, {y}).")
    opacity = _number(elem, "opacity", 1.0, what)
    op = elem.get("composite-op", "svg:src-over")
    mode = BlendMode.from_ora_op(op)
    if mode is None:
        warnings.append(
            f"Layer '{name}' uses blend mode '{op}', which sketchdiffuse does not know; it is shown as Normal."
        )
        mode = BlendMode.NORMAL
    try:
        image = open_image(_read_member(archive, src, what), max_pixels=MAX_SIDE * MAX_SIDE)
    except ImageImportError as exc:
        raise DocumentFormatError(f"{what}: the image of layer '{name}' cannot be read ({exc}).") from exc
    pixels = blank_pixels(width, height)
    # Place the layer's image at its offset, cropped to the canvas.
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + image.width, width), min(y + image.height, height)
    if x1 > x0 and y1 > y0:
        pixels[y0:y1, x0:x1] = image.pixels[y0 - y : y1 - y, x0 - x : x1 - x]
    return Layer(
        name=name,
        pixels=pixels,
        opacity=min(max(opacity, 0.0), 1.0) * group_opacity,
        visible=elem.get("visibility", "visible") != "hidden" and group_visible,
        blend_mode=mode,
        locked=elem.get("edit-locked") == "true",
        control=_control_role(elem, name, warnings),
    )


CONTROL_PREFIX = "sketchdiffuse-control-"  # kind, model, strength, start, end on a <layer> with a control role


def _control_attributes(role: ControlRole | None) -> dict[str, str]:
    if role is None:
        return {}
    values = {"kind": role.kind, "model": role.model, "strength": f"{role.strength:g}"}
    values |= {"start": f"{role.start:g}", "end": f"{role.end:g}"}
    return {CONTROL_PREFIX + key: value for key, value in values.items()}


def _control_role(elem: ET.Element, name: str, warnings: list[str]) -> ControlRole | None:
    """The layer's control role as sketchdiffuse wrote it; other programs see a normal layer."""
    kind = elem.get(CONTROL_PREFIX + "kind")
    if kind is None:
        return None
    try:
        return ControlRole(
            kind,
            elem.get(CONTROL_PREFIX + "model", ""),
            float(elem.get(CONTROL_PREFIX + "strength", "1")),
            float(elem.get(CONTROL_PREFIX + "start", "0")),
            float(elem.get(CONTROL_PREFIX + "end", "1")),
        )
    except (ValueError, DocumentError) as exc:
        warnings.append(f"Layer '{name}' has a damaged control role ({exc}); it is a normal layer now.")
        return None


# -- writing ----------------------------------------------------------------------------------


def _content_box(pixels: np.ndarray) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the non-transparent pixels; 1 x 1 at the origin for an empty layer."""
    alpha = pixels[..., 3]
    rows = np.flatnonzero(alpha.any(axis=1))
    if rows.size == 0:
        return 0, 0, 1, 1
    cols = np.flatnonzero(alpha[rows[0] : rows[-1] + 1].any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


def _layer_png(layer: Layer) -> tuple[bytes, int, int]:
    x, y, w, h = _content_box(layer.pixels)
    return encode_png(straight_image(layer.pixels[y : y + h, x : x + w]), compress_level=1), x, y


def _stack_xml(doc: Document, offsets: list[tuple[int, int]]) -> bytes:
    attrs = {"version": "0.0.5", "w": str(doc.width), "h": str(doc.height)}
    if doc.frame != Frame():
        attrs[FRAME_ATTRIBUTE] = " ".join(f"{v:.17g}" for v in doc.frame)
    image = ET.Element("image", attrs)
    stack = ET.SubElement(image, "stack")
    for index in reversed(range(len(doc.layers))):  # top layer first
        layer = doc.layers[index]
        x, y = offsets[index]
        attrs = {
            "name": layer.name,
            "src": f"data/layer{index:03d}.png",
            "x": str(x),
            "y": str(y),
            "opacity": f"{layer.opacity:.6g}",
            "visibility": "visible" if layer.visible else "hidden",
            "composite-op": layer.blend_mode.ora_op,
            "edit-locked": "true" if layer.locked else "false",
            "selected": "true" if index == doc.active_index else "false",
        } | _control_attributes(layer.control)
        ET.SubElement(stack, "layer", attrs)
    return ET.tostring(image, encoding="utf-8", xml_declaration=True)


def encode_ora(doc: Document, extras: Mapping[str, bytes] | None = None) -> bytes:
    """The whole .ora file as bytes; layer PNGs are encoded in parallel (zlib releases the GIL)."""
    merged = doc.composite()
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        encoded = list(pool.map(_layer_png, doc.layers))
        merged_png = pool.submit(encode_png, straight_image(merged), None, 1)
        thumb = straight_image(merged)
        thumb.thumbnail((THUMBNAIL_MAX, THUMBNAIL_MAX), Image.Resampling.LANCZOS)
        thumb_png = encode_png(thumb)
        merged_bytes = merged_png.result()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), MIMETYPE, compress_type=zipfile.ZIP_STORED)
        archive.writestr("stack.xml", _stack_xml(doc, [(x, y) for _, x, y in encoded]), zipfile.ZIP_DEFLATED)
        # PNGs are compressed already; storing them saves time for no loss of size.
        for index, (data, _, _) in enumerate(encoded):
            archive.writestr(f"data/layer{index:03d}.png", data, zipfile.ZIP_STORED)
        archive.writestr("mergedimage.png", merged_bytes, zipfile.ZIP_STORED)
        archive.writestr("Thumbnails/thumbnail.png", thumb_png, zipfile.ZIP_STORED)
        for name, data in (extras or {}).items():
            archive.writestr(EXTRAS_PREFIX + name, data, zipfile.ZIP_STORED)
    return buf.getvalue()


def write_ora(doc: Document, path: str | os.PathLike[str], extras: Mapping[str, bytes] | None = None) -> None:
    """Save atomically: the previous file survives a crash or a full disk intact."""
    data = encode_ora(doc, extras)
    with atomic_writer(path) as handle:
        handle.write(data)
