"""Text encoding that does not silently cut long prompts.

CLIP reads 77 tokens (75 words-pieces between start and end). SD 1.x/2.x prompts longer
than that are encoded in chunks of 75 and concatenated, as common front ends do; the
UNet's cross-attention accepts any length. SDXL prompts are cut at the limit and the
dropped words are reported. Attention weights are read as AUTOMATIC1111 writes them
(prompt_weights.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sketchdiffuse.generation.prompt_weights import (
    Segments,
    apply_weights,
    is_plain,
    parse_weights,
    plain_text,
    weighted_tokens,
)

CHUNK = 75


@dataclass
class Embeddings:
    prompt: Any
    negative: Any | None
    pooled: Any | None = None  # SDXL only
    negative_pooled: Any | None = None
    warnings: tuple[str, ...] = ()


def _rows(tokenizer: Any, ids: list[int], weights: list[float], chunks: int) -> list[tuple[list[int], list[float]]]:
    """Chunks of 75 tokens framed by start and end tokens and padded, with a weight per position."""
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    rows = []
    for i in range(chunks):
        part, w = ids[i * CHUNK : (i + 1) * CHUNK], weights[i * CHUNK : (i + 1) * CHUNK]
        rest = CHUNK - len(part)
        rows.append(([bos, *part, eos] + [pad] * rest, [1.0, *w, 1.0] + [1.0] * rest))
    return rows


def _encode_chunks(
    tokenizer: Any, text_encoder: Any, ids: list[int], weights: list[float], chunks: int, device: Any
) -> Any:
    import torch

    pieces = []
    for row, row_weights in _rows(tokenizer, ids, weights, chunks):
        hidden = text_encoder(torch.tensor([row], device=device))[0]
        pieces.append(apply_weights(hidden, torch.tensor(row_weights, device=hidden.device)))
    return torch.cat(pieces, dim=1)


def _sdxl_weighted(pipe: Any, segments: Segments, device: Any) -> tuple[Any, Any]:
    """SDXL's embeddings with weights: each encoder's second-to-last hidden states, weighted, side by
    side; the pooled embedding from the second encoder as it is (A1111 does not weight it)."""
    import torch

    hidden_states, pooled = [], None
    for tokenizer, encoder in ((pipe.tokenizer, pipe.text_encoder), (pipe.tokenizer_2, pipe.text_encoder_2)):
        if tokenizer is None or encoder is None:
            continue  # the refiner has only the second encoder
        ids, weights = weighted_tokens(tokenizer, segments)
        row, row_weights = _rows(tokenizer, ids, weights, 1)[0]  # SDXL reads one chunk
        out = encoder(torch.tensor([row], device=device), output_hidden_states=True)
        hidden_states.append(apply_weights(out.hidden_states[-2], torch.tensor(row_weights, device=device)))
        pooled = out[0]
    dtype = pipe.text_encoder_2.dtype
    return torch.cat(hidden_states, dim=-1).to(dtype), pooled.to(dtype)  # type: ignore[union-attr]


def encode(pipe: Any, prompt: str, negative: str, guidance: bool, sdxl: bool, device: Any) -> Embeddings:
    """Prompt (and negative, when guidance is on) embeddings for ``pipe``; A1111 attention weights
    (``(word:1.2)``, ``[word]``) are read from both."""
    import torch

    tokenizer = pipe.tokenizer or pipe.tokenizer_2  # an SDXL refiner has only the second encoder
    prompt_segments, negative_segments = parse_weights(prompt), parse_weights(negative)
    weighted = not (is_plain(prompt_segments) and is_plain(negative_segments))
    prompt, negative = plain_text(prompt_segments), plain_text(negative_segments)
    # Tokenized once, piece by piece as the weights need; counts and dropped words come from these ids.
    prompt_ids, prompt_weights = weighted_tokens(tokenizer, prompt_segments)
    negative_ids, negative_weights = weighted_tokens(tokenizer, negative_segments) if guidance else ([], [])
    n_prompt, n_negative = len(prompt_ids), len(negative_ids)
    with torch.no_grad():
        if sdxl:
            warnings = []
            for label, ids in (("prompt", prompt_ids), ("negative prompt", negative_ids)):
                if len(ids) > CHUNK:
                    dropped = tokenizer.decode(ids[CHUNK:]).strip()
                    warnings.append(f"The {label} is longer than SDXL reads; these words were left out: {dropped}")
            if weighted:
                pe, pooled = _sdxl_weighted(pipe, prompt_segments, device)
                ne = npooled = None
                if guidance and not negative and pipe.config.force_zeros_for_empty_prompt:
                    ne, npooled = torch.zeros_like(pe), torch.zeros_like(pooled)  # as diffusers does
                elif guidance:
                    ne, npooled = _sdxl_weighted(pipe, negative_segments, device)
                return Embeddings(pe, ne, pooled, npooled, tuple(warnings))
            pe, ne, pooled, npooled = pipe.encode_prompt(
                prompt=prompt,
                device=device,
                num_images_per_prompt=1,
                do_classifier_free_guidance=guidance,
                # None, not "": SDXL then uses the zero embedding it was trained with for "no negative".
                negative_prompt=(negative or None) if guidance else None,
            )
            return Embeddings(pe, ne if guidance else None, pooled, npooled if guidance else None, tuple(warnings))
        if not weighted and n_prompt <= CHUNK and n_negative <= CHUNK:
            pe, ne = pipe.encode_prompt(prompt, device, 1, guidance, negative if guidance else None)
            return Embeddings(pe, ne if guidance else None)
        chunks = max(1, -(-max(n_prompt, n_negative) // CHUNK))
        pe = _encode_chunks(tokenizer, pipe.text_encoder, prompt_ids, prompt_weights, chunks, device)
        ne = None
        if guidance:
            ne = _encode_chunks(tokenizer, pipe.text_encoder, negative_ids, negative_weights, chunks, device)
        dtype = pipe.text_encoder.dtype
        return Embeddings(pe.to(dtype), None if ne is None else ne.to(dtype))
