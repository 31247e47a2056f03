"""AUTOMATIC1111's prompt weighting: the parser on A1111's documented examples, the embeddings checked
against a hand computation on the tiny text encoders, and plain prompts unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from sketchdiffuse.generation import Engine, ModelRef
from sketchdiffuse.generation.prompt_weights import parse_weights
from sketchdiffuse.generation.prompts import _sdxl_weighted, encode
from tests.gen.requests import img2img_request, run


@pytest.mark.parametrize(
    ("text", "expected"),
    [  # the examples in AUTOMATIC1111's documentation of its prompt parser
        ("normal text", [("normal text", 1.0)]),
        ("an (important) word", [("an ", 1.0), ("important", 1.1), (" word", 1.0)]),
        ("(unbalanced", [("unbalanced", 1.1)]),
        ("\\(literal\\]", [("(literal]", 1.0)]),
        ("(unnecessary)(parens)", [("unnecessaryparens", 1.1)]),
        (
            "a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).",
            [
                ("a ", 1.0),
                ("house", 1.3 * 1.1 * 1.1),
                (" ", 1.1),
                ("on", 1.0),
                (" a ", 1.1),
                ("hill", 0.55),
                (", sun, ", 1.1),
                ("sky", 1.1**4),
                (".", 1.1),
            ],
        ),
        ("[faded]", [("faded", 1 / 1.1)]),
        ("ratio 16:9 (x:oops)", [("ratio 16:9 ", 1.0), ("x:oops", 1.1)]),
    ],
)
def test_the_parser_reads_what_a1111_reads(text: str, expected: list[tuple[str, float]]):
    got = parse_weights(text)
    assert [t for t, _ in got] == [t for t, _ in expected]
    assert [w for _, w in got] == pytest.approx([w for _, w in expected])


def _pipe(folder: Path):  # type: ignore[no-untyped-def]
    """The tiny pipeline, its final layer norms given a bias: a random encoder's output has a mean of zero
    within rounding, a trained CLIP's does not, and the mean restoration needs one to restore."""
    from diffusers import DiffusionPipeline

    pipe = DiffusionPipeline.from_pretrained(folder)
    for encoder in (pipe.text_encoder, getattr(pipe, "text_encoder_2", None)):
        if encoder is not None:
            norm = next(m for name, m in encoder.named_modules() if name.endswith("final_layer_norm"))
            torch.nn.init.constant_(norm.bias, 0.25)
    return pipe


def _by_hand(tokenizer, encoder, pieces: list[tuple[str, float]], layer: int | None = None) -> torch.Tensor:  # type: ignore[no-untyped-def]
    """The weighting written out: tokens of each piece, framed and padded to 77, each token's hidden
    state times its weight, then scaled so the mean is what it was."""
    ids, weights = [tokenizer.bos_token_id], [1.0]
    for text, weight in pieces:
        piece = tokenizer(text, add_special_tokens=False).input_ids
        ids += piece
        weights += [weight] * len(piece)
    ids.append(tokenizer.eos_token_id)
    weights.append(1.0)
    ids += [tokenizer.pad_token_id] * (77 - len(ids))
    weights += [1.0] * (77 - len(weights))
    out = encoder(torch.tensor([ids]), output_hidden_states=True)
    hidden = out[0] if layer is None else out.hidden_states[layer]
    scaled = hidden * torch.tensor(weights)[None, :, None]
    assert abs(float(scaled.mean())) > 1e-3  # a mean to restore (see _pipe)
    return scaled * (hidden.mean() / scaled.mean())


def test_sd_weights_scale_tokens_and_keep_the_mean(tiny_sd: Path):
    pipe = _pipe(tiny_sd)
    with torch.no_grad():
        emb = encode(pipe, "a (cat:1.5) [dog]", "(blurry)", True, False, "cpu")
        expected = _by_hand(
            pipe.tokenizer, pipe.text_encoder, [("a ", 1.0), ("cat", 1.5), (" ", 1.0), ("dog", 1 / 1.1)]
        )
        negative = _by_hand(pipe.tokenizer, pipe.text_encoder, [("blurry", 1.1)])
        plain = encode(pipe, "a cat dog", "blurry", True, False, "cpu")
    assert torch.allclose(emb.prompt, expected, atol=1e-6)
    assert torch.allclose(emb.negative, negative, atol=1e-6)
    assert not torch.allclose(emb.prompt, plain.prompt, atol=1e-3)
    assert abs(float(emb.prompt.mean()) - float(plain.prompt.mean())) < 1e-6  # the mean is restored


def test_escaped_brackets_and_weight_one_are_the_plain_prompt(tiny_sd: Path):
    pipe = _pipe(tiny_sd)
    with torch.no_grad():
        escaped = encode(pipe, "a \\(cat\\)", "", False, False, "cpu")
        literal, _ = pipe.encode_prompt("a (cat)", "cpu", 1, False)
        one = encode(pipe, "(a cat:1.0)", "", False, False, "cpu")
        plain, _ = pipe.encode_prompt("a cat", "cpu", 1, False)
    assert torch.equal(escaped.prompt, literal) and torch.equal(one.prompt, plain)


def test_sdxl_weights_each_encoder_and_leaves_the_pooled_embedding(tiny_sdxl: Path):
    pipe = _pipe(tiny_sdxl)
    with torch.no_grad():
        # With every weight 1 the hand-built path is diffusers' own encoding.
        same, same_pooled = _sdxl_weighted(pipe, [("a cat", 1.0)], "cpu")
        reference, _, reference_pooled, _ = pipe.encode_prompt("a cat", device="cpu", do_classifier_free_guidance=False)
        assert torch.allclose(same, reference, atol=1e-6) and torch.allclose(same_pooled, reference_pooled, atol=1e-6)
        emb = encode(pipe, "a (cat:1.4)", "", True, True, "cpu")
        pieces = [("a ", 1.0), ("cat", 1.4)]
        first = _by_hand(pipe.tokenizer, pipe.text_encoder, pieces, layer=-2)
        second = _by_hand(pipe.tokenizer_2, pipe.text_encoder_2, pieces, layer=-2)
    assert torch.allclose(emb.prompt, torch.cat([first, second], dim=-1), atol=1e-6)
    assert torch.allclose(emb.pooled, reference_pooled, atol=1e-6)  # the pooled text is not weighted
    assert not emb.negative.any() and not emb.negative_pooled.any()  # empty negative: SDXL's zeros


def test_an_encoder_without_a_mean_gets_the_scaling_alone(tiny_sd: Path):
    from diffusers import DiffusionPipeline

    pipe = DiffusionPipeline.from_pretrained(tiny_sd)  # random: mean zero within rounding
    with torch.no_grad():
        emb = encode(pipe, "a (cat:1.5)", "", False, False, "cpu")
    assert torch.isfinite(emb.prompt).all()


def test_a_weight_changes_the_picture_and_weight_one_does_not(tiny_sd: Path, tmp_path: Path):
    engine = Engine()
    base = img2img_request(tiny_sd, precision="fp32", prompt="a cat", strength=0.8)
    plain = run(engine, base)
    assert (run(engine, base.with_(prompt="(a cat:1.0)")).image == plain.image).all()
    assert (run(engine, base.with_(prompt="a (cat:1.8)")).image != plain.image).any()
    assert base.model == ModelRef.parse(str(tiny_sd), precision="fp32")
