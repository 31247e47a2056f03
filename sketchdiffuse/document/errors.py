"""Errors of the document layer; each carries a sentence a user can act on."""


class DocumentError(Exception):
    """A document operation that cannot be done as asked."""


class LayerLockedError(DocumentError):
    """Painting or editing a locked layer."""
