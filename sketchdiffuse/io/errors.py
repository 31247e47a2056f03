"""File errors with a sentence the window can show as is."""

from sketchdiffuse.document.errors import DocumentError


class DocumentFormatError(DocumentError):
    """A project file that cannot be read: damaged, hostile or not what its name says."""


class ImageImportError(DocumentError):
    """An image that cannot be imported: not an image, damaged, or too large."""
