"""Writes resources/tokenizers/clip/{vocab.json,merges.txt} from the CLIP BPE table that
open_clip ships, so single-file checkpoints load without reaching the Hub.

Run once with open-clip-torch installed: python tools/make_clip_tokenizer.py
The layout is the one CLIPTokenizer reads: ids follow the original CLIP order
(256 byte symbols, the same with </w>, the merges, then the two special tokens).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import open_clip.tokenizer as oct

OUT = Path(__file__).resolve().parents[1] / "resources" / "tokenizers" / "clip"


def main() -> None:
    with gzip.open(oct.default_bpe(), "rt", encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    merges = [tuple(line.split()) for line in lines[1 : 49152 - 256 - 2 + 1]]
    symbols = list(oct.bytes_to_unicode().values())
    vocab = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "vocab.json").write_text(json.dumps({tok: i for i, tok in enumerate(vocab)}, ensure_ascii=False))
    (OUT / "merges.txt").write_text("#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n", encoding="utf-8")
    print(f"{len(vocab)} tokens, {len(merges)} merges -> {OUT}")


if __name__ == "__main__":
    main()
