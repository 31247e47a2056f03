"""File errors with a sentence the window can show as is."""

import errno

from sketchdiffuse.document.errors import DocumentError


class DocumentFormatError(DocumentError):
    """A project file that cannot be read: damaged, hostile or not what its name says."""


class ImageImportError(DocumentError):
    """An image that cannot be imported: not an image, damaged, or too large."""


def describe_os_error(exc: OSError) -> str:
    """Why a file could not be written, as the end of a sentence."""
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno == errno.EACCES:
        return "permission was denied"
    return exc.strerror or str(exc)
