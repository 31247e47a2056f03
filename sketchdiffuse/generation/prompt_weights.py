"""Attention weights written in the prompt, as AUTOMATIC1111 and Civitai prompts write them.

``(word)`` multiplies the weight of what it encloses by 1.1, ``[word]`` divides it by 1.1,
``(word:1.3)`` sets the multiplier to 1.3; brackets nest and multiply; ``\\(`` ``\\)`` ``\\[`` ``\\]``
``\\\\`` are literal; brackets left open apply to the rest of the prompt. The text encoder's output
for each token is scaled by its weight, and the chunk's mean is then restored, so weighting shifts
emphasis without changing the overall magnitude the UNet was trained on.

compel, the maintained library for prompt weighting with diffusers, reads a different syntax
(``word++``, ``(word)1.3``) and does not restore the mean, so its pictures differ from the ones
artists expect from these prompts; hence this small parser.
"""

from __future__ import annotations

import re
from typing import Any

ROUND = 1.1
SQUARE = 1 / 1.1
_TOKENS = re.compile(
    r"""
    \\[()\[\]\\]            # an escaped bracket or backslash
  | \\                      # a lone backslash
  | \(                      # open round
  | \[                      # open square
  | :\s*([+-]?[.\d]+)\s*\)  # ':1.3)' closes a round bracket with its weight
  | \)                      # close round
  | ]                       # close square
  | [^\\()\[\]:]+           # plain text
  | :                       # a colon that is just text
""",
    re.VERBOSE,
)

Segments = list[tuple[str, float]]


def parse_weights(text: str) -> Segments:
    """``text`` as (text, weight) pieces, neighbours of equal weight merged."""
    pieces: list[list[Any]] = []
    round_open: list[int] = []
    square_open: list[int] = []

    def scale(start: int, factor: float) -> None:
        for piece in pieces[start:]:
            piece[1] *= factor

    for match in _TOKENS.finditer(text):
        token, weight = match.group(0), match.group(1)
        if token.startswith("\\") and len(token) == 2:
            pieces.append([token[1:], 1.0])
        elif token == "(":
            round_open.append(len(pieces))
        elif token == "[":
            square_open.append(len(pieces))
        elif weight is not None and round_open:
            try:
                scale(round_open.pop(), float(weight))
            except ValueError:  # "(a:1.2.3)": not a number, keep the text
                pieces.append([token, 1.0])
        elif token == ")" and round_open:
            scale(round_open.pop(), ROUND)
        elif token == "]" and square_open:
            scale(square_open.pop(), SQUARE)
        else:
            pieces.append([token, 1.0])
    for start in round_open:
        scale(start, ROUND)
    for start in square_open:
        scale(start, SQUARE)
    merged: Segments = []
    for piece_text, piece_weight in pieces:
        if merged and merged[-1][1] == piece_weight:
            merged[-1] = (merged[-1][0] + piece_text, piece_weight)
        else:
            merged.append((piece_text, piece_weight))
    return merged or [("", 1.0)]


def is_plain(segments: Segments) -> bool:
    return all(weight == 1.0 for _, weight in segments)


def plain_text(segments: Segments) -> str:
    """The prompt without its weighting syntax (escapes resolved)."""
    return "".join(text for text, _ in segments)


def weighted_tokens(tokenizer: Any, segments: Segments) -> tuple[list[int], list[float]]:
    """Token ids and one weight per token; each piece is tokenized on its own, as A1111 does."""
    ids: list[int] = []
    weights: list[float] = []
    for text, weight in segments:
        piece = tokenizer(text, add_special_tokens=False, truncation=False).input_ids
        ids += piece
        weights += [weight] * len(piece)
    return ids, weights


def apply_weights(hidden: Any, weights: Any) -> Any:
    """Scale each token's embedding by its weight, then restore the chunk's mean. An encoder whose
    output has no mean to speak of (zero within rounding) only gets the scaling: dividing two
    rounding errors would give any number at all."""
    if bool((weights == 1.0).all()):
        return hidden
    original_mean = hidden.mean()
    scaled = hidden * weights.reshape(1, -1, 1).to(hidden.dtype)
    new_mean = scaled.mean()
    if abs(float(new_mean)) <= 1e-4 * float(hidden.abs().mean()):
        return scaled
    return scaled * (original_mean / new_mean)
