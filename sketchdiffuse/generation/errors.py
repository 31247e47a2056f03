"""Typed generation errors; ``str(error)`` is a sentence a user can act on."""

from __future__ import annotations


class GenerationError(Exception):
    """Anything that stops a generation; the message says what to do next."""


class ModelError(GenerationError):
    """A model that cannot be used."""


class ModelNotFoundError(ModelError):
    pass


class ModelNotCachedError(ModelError):
    """A Hub model that is not downloaded while offline."""


class NotAStableDiffusionModelError(ModelError):
    pass


class UnsupportedModelFileError(ModelError):
    pass


class CorruptWeightsError(ModelError):
    pass


class DownloadError(ModelError):
    pass


class OutOfMemoryError(GenerationError):
    pass


class InvalidRequestError(GenerationError):
    pass
