"""Text encoding that does not silently cut long prompts.

CLIP reads 77 tokens (75 words-pieces between start and end). SD 1.x/2.x prompts longer
than that are encoded in chunks of 75 and concatenated, as common front ends do; the
UNet's cross-attention accepts any length. SDXL prompts are cut at the limit and the
dropped words are reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CHUNK = 75


@dataclass
class Embeddings:
    prompt: Any
    negative: Any | None
    pooled: Any | None = None  # SDXL only
    negative_pooled: Any | None = None
    warnings: tuple[str, ...] = ()


def token_count(tokenizer: Any, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False, truncation=False).input_ids)


def _encode_chunks(tokenizer: Any, text_encoder: Any, ids: list[int], chunks: int, device: Any) -> Any:
    import torch

    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    pieces = []
    for i in range(chunks):
        part = ids[i * CHUNK : (i + 1) * CHUNK]
        row = [bos, *part, eos] + [pad] * (CHUNK - len(part))
        tokens = torch.tensor([row], device=device)
        pieces.append(text_encoder(tokens)[0])
    return torch.cat(pieces, dim=1)


def encode(pipe: Any, prompt: str, negative: str, guidance: bool, sdxl: bool, device: Any) -> Embeddings:
    """Prompt (and negative, when guidance is on) embeddings for ``pipe``."""
    import torch

    tokenizer = pipe.tokenizer or pipe.tokenizer_2  # an SDXL refiner has only the second encoder
    n_prompt = token_count(tokenizer, prompt)
    n_negative = token_count(tokenizer, negative) if guidance else 0
    with torch.no_grad():
        if sdxl:
            warnings = []
            for label, text, count in (("prompt", prompt, n_prompt), ("negative prompt", negative, n_negative)):
                if count > CHUNK:
                    ids = tokenizer(text, add_special_tokens=False).input_ids[CHUNK:]
                    dropped = tokenizer.decode(ids).strip()
                    warnings.append(f"The {label} is longer than SDXL reads; these words were left out: {dropped}")
            pe, ne, pooled, npooled = pipe.encode_prompt(
                prompt=prompt,
                device=device,
                num_images_per_prompt=1,
                do_classifier_free_guidance=guidance,
                # None, not "": SDXL then uses the zero embedding it was trained with for "no negative".
                negative_prompt=(negative or None) if guidance else None,
            )
            return Embeddings(pe, ne if guidance else None, pooled, npooled if guidance else None, tuple(warnings))
        if n_prompt <= CHUNK and n_negative <= CHUNK:
            pe, ne = pipe.encode_prompt(prompt, device, 1, guidance, negative if guidance else None)
            return Embeddings(pe, ne if guidance else None)
        chunks = max(1, -(-max(n_prompt, n_negative) // CHUNK))
        prompt_ids = tokenizer(prompt, add_special_tokens=False).input_ids
        pe = _encode_chunks(tokenizer, pipe.text_encoder, prompt_ids, chunks, device)
        ne = None
        if guidance:
            negative_ids = tokenizer(negative, add_special_tokens=False).input_ids
            ne = _encode_chunks(tokenizer, pipe.text_encoder, negative_ids, chunks, device)
        dtype = pipe.text_encoder.dtype
        return Embeddings(pe.to(dtype), None if ne is None else ne.to(dtype))
