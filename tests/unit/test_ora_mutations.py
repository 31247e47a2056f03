"""Damaged project files: every mutated copy of a valid .ora either opens or says clearly why not."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import numpy as np
import pytest

from sketchdiffuse.document.document import Document
from sketchdiffuse.io.errors import DocumentFormatError
from sketchdiffuse.io.ora import read_ora, write_ora

COPIES = 1500


@pytest.fixture(scope="module")
def valid_ora(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    doc = Document(48, 32)
    doc.layers[0].pixels[:] = 255
    sketch = doc.new_layer("Sketch")
    sketch.pixels[4:20, 6:30] = (200, 10, 10, 255)
    doc.layers.append(sketch)
    path = tmp_path_factory.mktemp("ora") / "valid.ora"
    write_ora(doc, path, {"history/index.json": b'{"entries": []}'})
    return path.read_bytes()


def flip_bytes(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(out))
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))]


def rewrite_member(data: bytes, rng: random.Random, pick: str) -> bytes:
    """The archive rebuilt with one member damaged: stack.xml mangled as text, or a layer PNG's bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    names = [n for n in source.namelist() if (n == "stack.xml") == (pick == "xml") and n.endswith((".xml", ".png"))]
    victim = rng.choice(names)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            member = source.read(info)
            if info.filename == victim:
                if pick == "xml":
                    text = member.decode()
                    cut = rng.randrange(len(text))
                    tricks = [
                        text[:cut],
                        text[:cut] + text[cut + rng.randint(1, 20) :],
                        text.replace('encoding="UTF-8"', f'encoding="{rng.choice(["x-nope", "utf-99", ""])}"'),
                        '<?xml version="1.0" encoding="x-unknown"?>' + text.split("?>", 1)[-1],
                        text.replace('w="48"', f'w="{rng.choice(["-1", "1e400", "nan", "0x30", "48.5"])}"'),
                        text.replace("<stack", "<stack><stack" * rng.randint(1, 3), 1),
                    ]
                    member = rng.choice(tricks).encode("utf-8", "surrogatepass")
                else:
                    member = flip_bytes(member, rng) if rng.random() < 0.7 else truncate(member, rng)
            target.writestr(info, member)
    return out.getvalue()


def mutate(data: bytes, rng: random.Random) -> bytes:
    kind = rng.randrange(5)
    if kind == 0:
        return flip_bytes(data, rng)
    if kind == 1:
        return truncate(data, rng)
    if kind == 2:
        return rewrite_member(data, rng, "xml")
    if kind == 3:
        return rewrite_member(data, rng, "png")
    # The zip's own headers: version needed, method, flags of a central directory entry.
    out = bytearray(data)
    at = out.rfind(b"PK\x01\x02")
    field = rng.choice([6, 8, 10])
    out[at + field : at + field + 2] = rng.randrange(65536).to_bytes(2, "little")
    return bytes(out)


def test_every_damaged_copy_opens_or_raises_a_clear_error(valid_ora: bytes, tmp_path: Path):
    rng = random.Random(1234)
    path = tmp_path / "damaged.ora"
    escaped: list[str] = []
    opened = 0
    for i in range(COPIES):
        path.write_bytes(mutate(valid_ora, rng))
        try:
            contents = read_ora(path)
        except DocumentFormatError as exc:
            assert "damaged.ora" in str(exc)  # names the file
            continue
        except Exception as exc:  # what the test looks for
            escaped.append(f"copy {i}: {type(exc).__name__}: {exc}")
            continue
        opened += 1
        assert contents.document.layers and all(ly.pixels.dtype == np.uint8 for ly in contents.document.layers)
    assert not escaped, f"{len(escaped)} of {COPIES} raised raw exceptions:\n" + "\n".join(escaped[:20])
    assert 0 < opened < COPIES  # the mutations were neither all harmless nor all fatal
