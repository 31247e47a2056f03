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


UNRECOGNISED = "does not recognise"  # in every UnrecognisedModelError's message: the window offers Model settings


class UnrecognisedModelError(NotAStableDiffusionModelError):
    """A file with a Stable Diffusion UNet of a layout detection does not know: the artist can say
    which family it is (Model settings) instead of the load failing for good."""


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
