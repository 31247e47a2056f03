"""Files: OpenRaster documents, PNG generation parameters, safe image import/export (no Qt)."""

from sketchdiffuse.io.errors import DocumentFormatError, ImageImportError

__all__ = ["DocumentFormatError", "ImageImportError"]
