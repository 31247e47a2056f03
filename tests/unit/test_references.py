"""The project's reference pictures: reduced on the way in, saved in the project, sent with their weights
and the settings' IP-Adapter; damaged ones skipped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sketchdiffuse.document import Document
from sketchdiffuse.generation.errors import InvalidRequestError
from sketchdiffuse.session.document_session import DocumentSession
from sketchdiffuse.session.references import MAX_SIDE, decode_references, encode_references, reference_from
from sketchdiffuse.session.requests import document_request
from sketchdiffuse.session.settings import PanelValues, RunSettings

PANEL = PanelValues(prompt="a house", model="some/model")


def photo(h: int, w: int) -> np.ndarray:
    return np.random.default_rng(h + w).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_a_big_picture_is_reduced_and_a_layer_flattened_on_white():
    big = reference_from(photo(2000, 1500), 0.9)
    assert big.image.shape == (MAX_SIDE, round(1500 * MAX_SIDE / 2000), 3) and big.weight == 0.9
    layer = np.zeros((10, 10, 4), np.uint8)  # transparent
    assert (reference_from(layer).image == 255).all()
    assert reference_from(photo(8, 8), 7.0).weight == 2.0  # clamped


def test_references_go_with_the_request_and_need_an_ip_adapter():
    refs = [reference_from(photo(40, 30), 0.7), reference_from(photo(20, 20), 0.3)]
    request = document_request(
        PANEL, RunSettings(ip_adapter="h94/IP-Adapter:models/ip.safetensors"), Document(32, 32), None, refs
    )
    assert [r.weight for r in request.references] == [0.7, 0.3] and request.ip_adapter.startswith("h94/")
    assert np.array_equal(request.references[0].image, refs[0].image)
    with pytest.raises(InvalidRequestError, match="IP-Adapter"):
        document_request(PANEL, RunSettings(), Document(32, 32), None, refs)


def test_references_are_saved_in_the_project(tmp_path: Path):
    session = DocumentSession(Document(16, 16))
    session.references = [reference_from(photo(30, 40), 0.4)]
    session.save(tmp_path / "refs.ora")
    reopened = DocumentSession.open(tmp_path / "refs.ora")
    assert len(reopened.references) == 1 and reopened.references[0].weight == 0.4
    assert np.array_equal(reopened.references[0].image, session.references[0].image)


def test_damaged_references_are_skipped_with_a_warning():
    extras = encode_references([reference_from(photo(10, 10)), reference_from(photo(12, 12))])
    extras["references/001.png"] = b"not a png"
    references, warnings = decode_references(extras)
    assert len(references) == 1 and warnings == ["A damaged reference picture was skipped."]
    assert decode_references({"references/index.json": b"{"})[1] == [
        "The saved reference pictures are damaged and were not loaded."
    ]
