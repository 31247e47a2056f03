"""Reading any image Pillow understands as premultiplied RGBA, and exporting flattened images."""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from PIL.PngImagePlugin import PngInfo

from sketchdiffuse.io.atomic import atomic_writer
from sketchdiffuse.io.errors import ImageImportError
from sketchdiffuse.io.pixels import flatten_on, premultiply, unpremultiply

# 64 megapixels: an 8192 x 8192 canvas; anything bigger is refused before it is decoded.
MAX_IMPORT_PIXELS = 8192 * 8192
EXPORT_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}


@dataclass(frozen=True)
class ImportedImage:
    pixels: np.ndarray  # H x W x 4 uint8 premultiplied
    text: dict[str, str]  # PNG text chunks, e.g. "parameters" written by generators

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


def _describe(source: str | os.PathLike[str] | bytes) -> str:
    return "The dropped image" if isinstance(source, bytes | bytearray) else f"'{Path(source).name}'"


def _too_large(what: str, size: str, max_pixels: int) -> ImageImportError:
    limit = max_pixels / 1_000_000
    return ImageImportError(
        f"{what} has {size}, more than the limit of {limit:.0f} megapixels; scale it down in another program first."
    )


def to_rgba(im: Image.Image) -> Image.Image:
    """Straight 8-bit RGBA from any Pillow mode (palette, greyscale, 16-bit, float, CMYK)."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(im, dtype=np.uint32 if im.mode == "I" else np.uint16)
        top = 65535 if arr.dtype == np.uint16 or arr.max(initial=0) > 255 else 255
        grey = (arr.astype(np.float64) * (255.0 / top) + 0.5).clip(0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGBA")
    if im.mode == "F":
        grey = (np.asarray(im, dtype=np.float32).clip(0.0, 1.0) * 255 + 0.5).astype(np.uint8)
        return Image.fromarray(grey).convert("RGBA")
    if im.mode == "P":
        return im.convert("RGBA")  # keeps palette transparency
    if im.mode == "CMYK":
        return im.convert("RGB").convert("RGBA")
    return im.convert("RGBA")


def open_image(source: str | os.PathLike[str] | bytes, max_pixels: int = MAX_IMPORT_PIXELS) -> ImportedImage:
    """Decode ``source`` (a path or the raw bytes of a file); raises ImageImportError with a clear sentence."""
    what = _describe(source)
    try:
        handle = io.BytesIO(source) if isinstance(source, bytes | bytearray) else open(source, "rb")  # noqa: SIM115
    except OSError as exc:
        raise ImageImportError(f"{what} could not be opened: {exc.strerror or exc}.") from exc
    with handle, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(handle)
            w, h = im.size
            if w * h > max_pixels:
                raise _too_large(what, f"{w} x {h} pixels", max_pixels)
            text = {str(k): str(v) for k, v in getattr(im, "text", {}).items()}
            im.seek(0)  # the first frame of an animation
            im.load()
            rgba = to_rgba(ImageOps.exif_transpose(im) or im)
        except ImageImportError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _too_large(what, "too many pixels", max_pixels) from exc
        except UnidentifiedImageError as exc:
            raise ImageImportError(f"{what} is not an image sketchdiffuse can read.") from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ImageImportError(f"{what} is damaged or truncated and cannot be read ({exc}).") from exc
        except MemoryError as exc:
            raise ImageImportError(f"{what} needs more memory than is available to open.") from exc
    return ImportedImage(premultiply(np.asarray(rgba, dtype=np.uint8)), text)


def straight_image(rgba_premultiplied: np.ndarray) -> Image.Image:
    return Image.fromarray(unpremultiply(rgba_premultiplied), "RGBA")


def encode_png(image: Image.Image, text: dict[str, str] | None = None, compress_level: int = 6) -> bytes:
    """PNG bytes; text chunks are written as iTXt when they are not Latin-1 so any script survives."""
    info = PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    buf = io.BytesIO()
    image.save(buf, "PNG", pnginfo=info, compress_level=compress_level)
    return buf.getvalue()


def export_image(
    rgba_premultiplied: np.ndarray,
    path: str | os.PathLike[str],
    text: dict[str, str] | None = None,
    quality: int = 92,
) -> None:
    """Write the flattened image as PNG, JPEG (on white) or WebP, chosen by the extension; atomic."""
    target = Path(path)
    fmt = EXPORT_FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise ImageImportError(f"'{target.name}': export as .png, .jpg or .webp.")
    if fmt == "PNG":
        data = encode_png(straight_image(rgba_premultiplied), text)
    else:
        buf = io.BytesIO()
        if fmt == "JPEG":
            Image.fromarray(flatten_on(rgba_premultiplied), "RGB").save(buf, "JPEG", quality=quality)
        else:
            straight_image(rgba_premultiplied).save(buf, "WEBP", quality=quality)
        data = buf.getvalue()
    with atomic_writer(target) as handle:
        handle.write(data)
