"""Trains the toy-shapes model: a tiny latent diffusion model that really draws.

The data set is synthetic: 64x64 pictures of one shape (circle, square, triangle) in one colour
(red, green, blue, yellow, black) at a random size and position on white, captioned
"a red circle", "a blue square", ... The model is built from the real diffusers / transformers
classes (AutoencoderKL with a latent factor of 4, UNet2DConditionModel, CLIPTextModel and a
byte-level CLIP tokenizer whose small vocabulary holds those words), so sketchdiffuse loads it
like any artist's model. It exists for the tests and the demo pictures; real work uses a real
checkpoint.

    python tools/train_toy_model.py                      # about 53 min on 2 idle CPU cores
    python tools/train_toy_model.py --quick --out /tmp/t  # a few steps, to check the script
    python tools/train_toy_model.py --inpaint            # variants, fine-tuned from tests/data/toy-shapes
    python tools/train_toy_model.py --scribble           #   into tests/data/toy-shapes-<variant>/
    python tools/train_toy_model.py --lora               #   (about 15-18 min each; see docs/toy-model.md)

Everything is seeded, so a run on the same machine and library versions gives the same weights.
The weights are stored in fp16 (the loader converts them) to keep the committed files small.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]

SHAPES = ("circle", "square", "triangle")
COLOURS = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 220),
    "yellow": (235, 200, 30),
    "black": (25, 25, 25),
}
# Words the tokenizer keeps whole; "purple" is there for the LoRA variant.
WORDS = ("a", "red", "green", "blue", "yellow", "black", "purple", "circle", "square", "triangle", "shape")
SIZE = 64
# The standard Stable Diffusion noise schedule, so every sampler sketchdiffuse offers applies.
SCHEDULER = {
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "num_train_timesteps": 1000,
    "prediction_type": "epsilon",
    "steps_offset": 1,
    "timestep_spacing": "leading",
    "clip_sample": False,
    "set_alpha_to_one": False,
}


@dataclass(frozen=True)
class Plan:
    vae_steps: int
    vae_batch: int
    unet_steps: int
    unet_batch: int
    bank: int  # pictures pre-encoded for the UNet's training


FULL = Plan(vae_steps=1200, vae_batch=16, unet_steps=3600, unet_batch=48, bank=24000)
QUICK = Plan(vae_steps=3, vae_batch=4, unet_steps=3, unet_batch=4, bank=16)


# -- data -------------------------------------------------------------------------------------


def shape_coverage(shape: np.ndarray, cx: np.ndarray, cy: np.ndarray, side: np.ndarray, ss: int = 4) -> np.ndarray:
    """Anti-aliased coverage (n, SIZE, SIZE) in 0..1, from a 4x4 supersampled inside test."""
    grid = (np.arange(SIZE * ss) + 0.5) / ss
    x = grid[None, None, :]
    y = grid[None, :, None]
    cx, cy, half = cx[:, None, None], cy[:, None, None], side[:, None, None] / 2
    circle = (x - cx) ** 2 + (y - cy) ** 2 <= half**2
    square = (np.abs(x - cx) <= half) & (np.abs(y - cy) <= half)
    top = cy - half
    # An upright isosceles triangle filling the box: half as much area as the square.
    triangle = (y >= top) & (y <= cy + half) & (np.abs(x - cx) <= (y - top) / 2)
    s = shape[:, None, None]
    inside = np.where(s == 0, circle, np.where(s == 1, square, triangle))
    n = len(shape)
    return inside.reshape(n, SIZE, ss, SIZE, ss).mean(axis=(2, 4))


def render(rng: np.random.Generator, n: int, colours: dict[str, tuple[int, int, int]] = COLOURS):
    """n pictures (n, 3, SIZE, SIZE) in -1..1 with their captions."""
    names = list(colours)
    shape = rng.integers(0, len(SHAPES), n)
    colour = rng.integers(0, len(names), n)
    side = rng.uniform(0.28, 0.72, n) * SIZE
    cx = rng.uniform(side / 2 + 1, SIZE - side / 2 - 1)
    cy = rng.uniform(side / 2 + 1, SIZE - side / 2 - 1)
    cov = shape_coverage(shape, cx, cy, side)[:, None]
    rgb = np.array([colours[names[c]] for c in colour], dtype=np.float64)[:, :, None, None]
    pixels = 255.0 * (1 - cov) + rgb * cov
    captions = [f"a {names[c]} {SHAPES[s]}" for c, s in zip(colour, shape, strict=True)]
    return torch.from_numpy((pixels / 127.5 - 1).astype(np.float32)), captions


# -- model parts ------------------------------------------------------------------------------


def bpe(parts: list[str], merges: list[tuple[str, str]]) -> list[str]:
    """Byte-pair encoding as CLIP's tokenizer applies it: the best-ranked adjacent pair first."""
    rank = {m: i for i, m in enumerate(merges)}
    while len(parts) > 1:
        pairs = [(rank.get((a, b), len(rank)), i) for i, (a, b) in enumerate(itertools.pairwise(parts))]
        best, i = min(pairs)
        if best == len(rank):
            break
        parts = [*parts[:i], parts[i] + parts[i + 1], *parts[i + 2 :]]
    return parts


def write_tokenizer(folder: Path):
    """A byte-level BPE vocabulary in CLIP's layout whose merges spell each word of WORDS as one token."""
    from transformers import CLIPTokenizer

    sys.path.insert(0, str(ROOT))
    from tests.gen.tiny import byte_symbols

    symbols = byte_symbols()
    merges: list[tuple[str, str]] = []
    made: list[str] = []
    for word in WORDS:
        parts = bpe([*word[:-1], word[-1] + "</w>"], merges)
        while len(parts) > 1:  # join what the earlier words' merges left apart, left to right
            merges.append((parts[0], parts[1]))
            made.append(parts[0] + parts[1])
            parts = bpe(parts, merges)
    vocab = symbols + [s + "</w>" for s in symbols] + list(dict.fromkeys(made)) + ["<|startoftext|>", "<|endoftext|>"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}, ensure_ascii=False))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n")
    tokenizer = CLIPTokenizer(
        str(folder / "vocab.json"), str(folder / "merges.txt"), pad_token="<|endoftext|>", model_max_length=77
    )
    for word in WORDS:
        ids = tokenizer(word, add_special_tokens=False).input_ids
        if len(ids) != 1:
            raise RuntimeError(f"the toy vocabulary splits '{word}' into {len(ids)} tokens")
    return tokenizer


def build_vae():
    from diffusers import AutoencoderKL

    torch.manual_seed(1)
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 3,
        up_block_types=("UpDecoderBlock2D",) * 3,
        block_out_channels=(16, 32, 64),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=8,
        sample_size=SIZE,
        mid_block_add_attention=False,
    )


def build_text_encoder(vocab_size: int):
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(2)
    return CLIPTextModel(
        CLIPTextConfig(
            vocab_size=vocab_size,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=77,
            bos_token_id=vocab_size - 2,
            eos_token_id=vocab_size - 1,
            pad_token_id=vocab_size - 1,
            hidden_act="gelu",
        )
    )


def build_unet(in_channels: int = 4):
    from diffusers import UNet2DConditionModel

    torch.manual_seed(3)
    return UNet2DConditionModel(
        sample_size=SIZE // 4,
        in_channels=in_channels,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(32, 64, 64),
        down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=64,
        attention_head_dim=8,
        norm_num_groups=16,
    )


def parameters(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# -- training ---------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def lr_at(step: int, total: int, peak: float, warmup: int = 100) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    return peak * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


def train_vae(vae, plan: Plan, rng: np.random.Generator) -> None:
    """Reconstruction (L1 + MSE) with a small KL term: flat shapes need sharp edges, not a tidy prior."""
    opt = torch.optim.AdamW(vae.parameters(), lr=2e-3, weight_decay=0.0)
    vae.train()
    for step in range(plan.vae_steps):
        for group in opt.param_groups:
            group["lr"] = lr_at(step, plan.vae_steps, 2e-3)
        x, _ = render(rng, plan.vae_batch)
        posterior = vae.encode(x).latent_dist
        recon = vae.decode(posterior.sample()).sample
        kl = posterior.kl().mean() / (x.shape[-1] * x.shape[-2])
        loss = F.l1_loss(recon, x) + F.mse_loss(recon, x) + 1e-4 * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == plan.vae_steps - 1:
            log(f"vae {step:5d}/{plan.vae_steps}  loss {loss.item():.4f}  kl {kl.item():.4f}")
    vae.eval()


@torch.no_grad()
def encode_bank(vae, plan: Plan, rng: np.random.Generator):
    """Latent means and standard deviations of `plan.bank` pictures; the UNet samples from them."""
    means, stds, captions = [], [], []
    for start in range(0, plan.bank, 256):
        x, caps = render(rng, min(256, plan.bank - start))
        dist = vae.encode(x).latent_dist
        means.append(dist.mean)
        stds.append(dist.std)
        captions += caps
    mean, std = torch.cat(means), torch.cat(stds)
    scaling = float(1.0 / mean.std())
    vae.register_to_config(scaling_factor=scaling)
    log(f"bank of {len(captions)} latents, scaling factor {scaling:.4f}")
    return mean, std, captions


def train_unet(unet, text_encoder, tokenizer, bank, vae_scaling: float, plan: Plan, rng: np.random.Generator):
    """Epsilon prediction with min-SNR weighting; one caption in ten is dropped for classifier-free guidance."""
    from diffusers import DDPMScheduler
    from diffusers.training_utils import EMAModel

    mean, std, captions = bank
    scaling = vae_scaling
    noise_schedule = DDPMScheduler.from_config(SCHEDULER)
    alphas = noise_schedule.alphas_cumprod
    snr = alphas / (1 - alphas)
    distinct = [*sorted(set(captions)), ""]
    ids = tokenizer(distinct, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
    row = {c: i for i, c in enumerate(distinct)}
    params = list(unet.parameters()) + list(text_encoder.parameters())
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-2)
    ema = EMAModel(unet.parameters(), decay=0.999)
    unet.train()
    text_encoder.train()
    for step in range(plan.unet_steps):
        for group in opt.param_groups:
            group["lr"] = lr_at(step, plan.unet_steps, 1e-3)
        pick = torch.from_numpy(rng.integers(0, len(captions), plan.unet_batch))
        latents = (mean[pick] + std[pick] * torch.randn_like(mean[pick])) * scaling
        chosen = ["" if rng.random() < 0.1 else captions[i] for i in pick.tolist()]
        hidden = text_encoder(ids[[row[c] for c in chosen]])[0]
        noise = torch.randn_like(latents)
        t = torch.from_numpy(rng.integers(0, 1000, plan.unet_batch))
        noisy = noise_schedule.add_noise(latents, noise, t)
        pred = unet(noisy, t, hidden).sample
        weight = torch.clamp(snr[t], max=5.0) / snr[t]
        loss = (weight * ((pred - noise) ** 2).mean(dim=(1, 2, 3))).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        ema.step(unet.parameters())
        if step % 100 == 0 or step == plan.unet_steps - 1:
            log(f"unet {step:5d}/{plan.unet_steps}  loss {loss.item():.4f}")
    ema.copy_to(unet.parameters())
    unet.eval()
    text_encoder.eval()
    return unet


def save(out: Path, vae, text_encoder, tokenizer, unet) -> None:
    from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline
    from safetensors.torch import save_file

    sys.path.insert(0, str(ROOT))
    from tests.gen.ldm import clip_to_ldm, unet_to_ldm, vae_to_ldm

    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=EulerDiscreteScheduler.from_config(SCHEDULER),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.to(torch.float16)
    pipe.save_pretrained(out, safe_serialization=True)
    single = {}
    single.update(unet_to_ldm(unet.state_dict(), unet.config))
    single.update(vae_to_ldm(vae.state_dict(), vae.config))
    single.update(clip_to_ldm(text_encoder.state_dict()))
    single = {k: v.contiguous() for k, v in single.items()}
    save_file(single, str(out.parent / f"{out.name}.safetensors"), metadata={"format": "pt"})
    log(f"saved {out} and {out.name}.safetensors")


# -- variants: fine-tuned from the trained toy model ------------------------------------------

PURPLE = (140, 50, 200)
# (steps, batch) per variant, each within 20 minutes here (measured: 0.91, 0.66 and 0.58 s per step
# at batch 32 on 2 cores); quick: the test's few steps.
VARIANT_PLAN = {"inpaint": (1200, 32), "scribble": (1500, 32), "lora": (1500, 32), "quick": (3, 4)}


def load_toy(folder: Path):
    """The trained toy model's parts (fp32, for fine-tuning)."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizer

    vae = AutoencoderKL.from_pretrained(folder / "vae", dtype=torch.float32)
    unet = UNet2DConditionModel.from_pretrained(folder / "unet", dtype=torch.float32)
    text_encoder = CLIPTextModel.from_pretrained(folder / "text_encoder", dtype=torch.float32)
    tokenizer = CLIPTokenizer.from_pretrained(folder / "tokenizer")
    for part in (vae, unet, text_encoder):
        part.requires_grad_(False)
    return vae, text_encoder, tokenizer, unet


def render_masks(rng: np.random.Generator, n: int) -> torch.Tensor:
    """Random rectangles (n, 1, SIZE, SIZE), 1 where the picture is repainted, as a selection would be."""
    masks = np.zeros((n, 1, SIZE, SIZE), np.float32)
    for i in range(n):
        w, h = rng.integers(SIZE // 4, SIZE, 2)
        x, y = rng.integers(0, SIZE - w + 1), rng.integers(0, SIZE - h + 1)
        masks[i, :, y : y + h, x : x + w] = 1.0
    return torch.from_numpy(masks)


def outlines(pictures: torch.Tensor) -> torch.Tensor:
    """White outlines on black (scribble ControlNets' convention) of the shapes in ``pictures`` (-1..1)."""
    ink = (pictures.mean(dim=1, keepdim=True) < 0.8).float()  # far from white
    edge = F.max_pool2d(ink, 3, 1, 1) - (-F.max_pool2d(-ink, 3, 1, 1))
    return edge.clamp(0, 1).repeat(1, 3, 1, 1)


def captions_to_hidden(text_encoder, tokenizer, captions: list[str]) -> torch.Tensor:
    ids = tokenizer(captions, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
    with torch.no_grad():
        return text_encoder(ids)[0]


def noisy_batch(vae, pictures: torch.Tensor, rng: np.random.Generator):
    from diffusers import DDPMScheduler

    schedule = DDPMScheduler.from_config(SCHEDULER)
    with torch.no_grad():
        latents = vae.encode(pictures).latent_dist.sample() * vae.config.scaling_factor
    noise = torch.randn_like(latents)
    t = torch.from_numpy(rng.integers(0, 1000, len(pictures)))
    return latents, schedule.add_noise(latents, noise, t), noise, t


def finetune(params: list, steps: int, loss_of, name: str) -> None:
    opt = torch.optim.AdamW(params, lr=5e-4, weight_decay=1e-2)
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, 5e-4, warmup=min(100, steps))
        loss = loss_of()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step % 100 == 0 or step == steps - 1:
            log(f"{name} {step:5d}/{steps}  loss {loss.item():.4f}")


def train_inpaint(base: Path, out: Path, steps: int, batch: int, rng: np.random.Generator) -> None:
    """A 9-channel UNet (noisy latent, mask, masked picture's latent) started from the toy UNet, the extra
    input channels at zero: the usual way inpainting models are made from a base model."""
    from diffusers import EulerDiscreteScheduler, StableDiffusionInpaintPipeline

    vae, text_encoder, tokenizer, unet = load_toy(base)
    inpaint = build_unet(in_channels=9)
    state = unet.state_dict()
    weight = state["conv_in.weight"]
    state["conv_in.weight"] = torch.cat([weight, torch.zeros(weight.shape[0], 5, *weight.shape[2:])], dim=1)
    inpaint.load_state_dict(state)

    def loss_of() -> torch.Tensor:
        pictures, captions = render(rng, batch)
        masks = render_masks(rng, batch)
        latents, noisy, noise, t = noisy_batch(vae, pictures, rng)
        with torch.no_grad():
            masked = vae.encode(pictures * (1 - masks)).latent_dist.mode() * vae.config.scaling_factor
        small = F.interpolate(masks, size=latents.shape[-2:])
        hidden = captions_to_hidden(text_encoder, tokenizer, captions)
        pred = inpaint(torch.cat([noisy, small, masked], dim=1), t, hidden).sample
        return F.mse_loss(pred, noise)

    finetune(list(inpaint.parameters()), steps, loss_of, "inpaint")
    pipe = StableDiffusionInpaintPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=inpaint.eval(),
        scheduler=EulerDiscreteScheduler.from_config(SCHEDULER),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.to(torch.float16).save_pretrained(out, safe_serialization=True)


def train_scribble(base: Path, out: Path, steps: int, batch: int, rng: np.random.Generator) -> None:
    """A ControlNet started from the toy UNet's encoder (ControlNetModel.from_unet): white outlines on
    black in, the filled shape out; the toy model itself stays frozen."""
    from diffusers import ControlNetModel

    vae, text_encoder, tokenizer, unet = load_toy(base)
    torch.manual_seed(4)
    # Three stages: two stride-2 steps, the toy autoencoder's latent factor of 4.
    controlnet = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(16, 32, 64))

    def loss_of() -> torch.Tensor:
        pictures, captions = render(rng, batch)
        captions = ["" if rng.random() < 0.3 else c for c in captions]  # outlines alone must suffice
        _, noisy, noise, t = noisy_batch(vae, pictures, rng)
        hidden = captions_to_hidden(text_encoder, tokenizer, captions)
        down, mid = controlnet(noisy, t, hidden, controlnet_cond=outlines(pictures), return_dict=False)
        pred = unet(noisy, t, hidden, down_block_additional_residuals=down, mid_block_additional_residual=mid).sample
        return F.mse_loss(pred, noise)

    finetune(list(controlnet.parameters()), steps, loss_of, "scribble")
    controlnet.eval().to(torch.float16).save_pretrained(out, safe_serialization=True)


def train_lora(base: Path, out: Path, steps: int, batch: int, rng: np.random.Generator) -> None:
    """A LoRA on the UNet's attention (peft) that draws every shape purple whatever colour is asked."""
    from diffusers import StableDiffusionPipeline
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    vae, text_encoder, tokenizer, unet = load_toy(base)
    unet.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    trainable = [p for p in unet.parameters() if p.requires_grad]

    def loss_of() -> torch.Tensor:
        pictures, captions = render(rng, batch, {"purple": PURPLE})
        named = list(COLOURS)
        # The pictures are purple; the captions name the usual colours, which the LoRA learns to override.
        captions = [f"a {named[int(rng.integers(len(named)))]} {c.split()[-1]}" for c in captions]
        _, noisy, noise, t = noisy_batch(vae, pictures, rng)
        hidden = captions_to_hidden(text_encoder, tokenizer, captions)
        return F.mse_loss(unet(noisy, t, hidden).sample, noise)

    finetune(trainable, steps, loss_of, "lora")
    layers = {k: v.to(torch.float16) for k, v in get_peft_model_state_dict(unet).items()}
    StableDiffusionPipeline.save_lora_weights(out, unet_lora_layers=layers, safe_serialization=True)


VARIANTS = {"inpaint": train_inpaint, "scribble": train_scribble, "lora": train_lora}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=None, help="default: tests/data/toy-shapes[-VARIANT]")
    parser.add_argument("--quick", action="store_true", help="a few steps on a tiny data set (for the test)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: all cores)")
    variant = parser.add_mutually_exclusive_group()
    variant.add_argument(
        "--inpaint",
        action="store_const",
        const="inpaint",
        dest="variant",
        help="a 9-channel inpainting UNet fine-tuned from the toy model",
    )
    variant.add_argument(
        "--scribble",
        action="store_const",
        const="scribble",
        dest="variant",
        help="a scribble ControlNet: white outlines on black in, the filled shape out",
    )
    variant.add_argument(
        "--lora", action="store_const", const="lora", dest="variant", help="a LoRA that draws every shape purple"
    )
    parser.add_argument(
        "--base",
        type=Path,
        default=ROOT / "tests" / "data" / "toy-shapes",
        help="the trained toy model the variants start from",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    started = time.monotonic()
    name = "toy-shapes" + (f"-{args.variant}" if args.variant else "")
    out = args.out or ROOT / "tests" / "data" / name
    if args.variant:
        steps, batch = VARIANT_PLAN["quick" if args.quick else args.variant]
        VARIANTS[args.variant](args.base, out, steps, batch, rng)
        log(f"saved {out}; done in {(time.monotonic() - started) / 60:.1f} min")
        return 0
    plan = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory() as scratch:
        tokenizer = write_tokenizer(Path(scratch))
    vae, text_encoder, unet = build_vae(), build_text_encoder(len(tokenizer)), build_unet()
    log(f"parameters: vae {parameters(vae):,}  text {parameters(text_encoder):,}  unet {parameters(unet):,}")
    train_vae(vae, plan, rng)
    bank = encode_bank(vae, plan, rng)
    vae.requires_grad_(False)
    train_unet(unet, text_encoder, tokenizer, bank, vae.config.scaling_factor, plan, rng)
    save(out, vae, text_encoder, tokenizer, unet)
    log(f"done in {(time.monotonic() - started) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
