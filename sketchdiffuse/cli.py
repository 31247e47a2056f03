"""Command line: no arguments opens the window; ``generate`` works headless."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

import sketchdiffuse.generation.tuning as tuning
from sketchdiffuse.generation.controls import Control, ControlKind, Lora, Reference, control_image
from sketchdiffuse.generation.family_override import BASES, FamilyOverride
from sketchdiffuse.generation.limits import GUIDANCE, MAX_SEED, RANDOM_SEED, REFINER_SWITCH, STEPS, STRENGTH
from sketchdiffuse.generation.schedulers import SCHEDULER_NAMES
from sketchdiffuse.io.errors import describe_os_error
from sketchdiffuse.io.pixels import flatten_on, premultiply

if TYPE_CHECKING:
    from sketchdiffuse.generation.request import GenerationResult

DEFAULT_MODEL = "stabilityai/sd-turbo"
KINDS = [kind.value for kind in ControlKind]


def _number_in(low: float, high: float, cast: type, what: str) -> Callable[[str], float]:
    """An argparse type: a number in [low, high], refused with a sentence before anything loads."""

    def parse(text: str) -> float:
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{what} must be from {low:g} to {high:g}, not {text}")
        return value

    return parse


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value != RANDOM_SEED and not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"the seed must be from 0 to {MAX_SEED}, or -1 for a random one")
    return value


def output_problem(path: str) -> str | None:
    """Why the output PNG cannot be written there, in plain words; None when it can."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        return f"'{target}' is a folder; give a file name such as '{target / 'out.png'}'"
    if target.suffix.lower() != ".png":
        return f"the output must be a .png file, not '{target.name}'"
    if not folder.is_dir():
        return f"the folder '{folder}' does not exist"
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return f"cannot write into '{folder}' ({describe_os_error(exc)})"
    return None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sketchdiffuse", description="Paint a sketch, turn it into an image.")
    sub = parser.add_subparsers(dest="command")
    gen = sub.add_parser("generate", help="turn a sketch (PNG, JPEG or .ora) into an image without the window")
    gen.add_argument("sketch", help="the drawing: an image file or an .ora project")
    gen.add_argument("--prompt", required=True)
    gen.add_argument("--negative", default="")
    gen.add_argument(
        "--strength",
        type=_number_in(*STRENGTH, float, "the strength"),
        default=0.6,
        help="0 keeps the drawing, 1 ignores it (default 0.6)",
    )
    gen.add_argument("--steps", type=_number_in(*STEPS, int, "steps"), default=None, help="default: the model family's")
    gen.add_argument(
        "--guidance", type=_number_in(*GUIDANCE, float, "guidance"), default=None, help="default: the model family's"
    )
    gen.add_argument("--seed", type=_seed, default=RANDOM_SEED, help="-1 (default) picks a random seed")
    gen.add_argument(
        "--scheduler", default=None, choices=SCHEDULER_NAMES, metavar="SAMPLER", help=", ".join(SCHEDULER_NAMES)
    )
    gen.add_argument("--model", default=DEFAULT_MODEL, help="Hub id, diffusers folder or .safetensors file")
    gen.add_argument("--config", default=None, help="diffusers config folder for an unusual single-file model")
    gen.add_argument(
        "--family",
        choices=list(BASES),
        default=None,
        help="what the model is, when detection is wrong or cannot tell",
    )
    gen.add_argument("--prediction", choices=["epsilon", "v_prediction"], default=None, help="overrides detection")
    gen.add_argument("--refiner", default=None, help="an SDXL refiner finishing the SDXL model's picture")
    gen.add_argument(
        "--refiner-switch",
        type=_number_in(*REFINER_SWITCH, float, "refiner switch"),
        default=0.8,
        help="the fraction of the schedule the base model runs (default 0.8)",
    )
    gen.add_argument("--device", default="auto", choices=["auto", "cuda", "mps", "cpu"])
    gen.add_argument("--precision", default="auto", choices=["auto", "fp16", "bf16", "fp32"])
    gen.add_argument(
        "--size", default="native", choices=["native", "canvas"], help="work at the model's size or the canvas size"
    )
    gen.add_argument(
        "--mask", default=None, help="grey image the sketch's size: white regenerates, grey partly, black keeps"
    )
    gen.add_argument(
        "--mask-padding",
        type=_number_in(0.0, 2.0, float, "the mask padding"),
        default=0.25,
        help="context around the masked part, a share of its size on each side (default 0.25)",
    )
    gen.add_argument(
        "--mask-blur",
        type=_number_in(0.0, 256.0, float, "the mask blur"),
        default=0.0,
        help="soften the mask's edge by this many pixels (default 0)",
    )
    gen.add_argument(
        "--control",
        action="append",
        default=[],
        metavar="KIND=IMAGE[@WEIGHT]",
        help="steer with a ControlNet: KIND scribble, lineart or canny; IMAGE the lines or picture the sketch's "
        "size (dark lines on white, or a transparent layer); repeatable",
    )
    gen.add_argument(
        "--control-model",
        action="append",
        default=[],
        metavar="KIND=MODEL",
        help="the ControlNet for KIND: Hub id, diffusers folder or .safetensors file",
    )
    gen.add_argument(
        "--lora", action="append", default=[], metavar="FILE[@WEIGHT]", help="a LoRA .safetensors file; repeatable"
    )
    gen.add_argument(
        "--reference",
        action="append",
        default=[],
        metavar="IMAGE[@WEIGHT]",
        help="a picture whose look steers the result through the IP-Adapter; repeatable",
    )
    gen.add_argument(
        "--ip-adapter",
        default=None,
        metavar="MODEL",
        help="the IP-Adapter for --reference: a .safetensors file with image_encoder/ beside it, or HUB_ID:SUB/FILE",
    )
    gen.add_argument(
        "--server",
        default=None,
        metavar="URL",
        help="generate on a ComfyUI server (http://HOST:8188 or https://...); --model names a checkpoint it lists",
    )
    gen.add_argument("--token", default=None, help="a bearer token for a server that asks for one")
    gen.add_argument("-o", "--output", required=True, help="PNG to write (with the generation parameters)")
    models = sub.add_parser("models", help="list the models that can be named: downloaded here, or on a server")
    models.add_argument("--server", default=None, metavar="URL", help="a ComfyUI server's address")
    models.add_argument("--token", default=None, help="a bearer token for a server that asks for one")
    return parser


def models_command(args: argparse.Namespace) -> int:
    """The names --model, --lora and --control-model take, from the backend that would use them."""
    from sketchdiffuse.generation import Engine, GenerationError
    from sketchdiffuse.generation.backend import Backend
    from sketchdiffuse.generation.comfy.backend import ComfyBackend

    try:
        backend: Backend = ComfyBackend(args.server, args.token) if args.server else Engine()
        lists = backend.available_models()
    except GenerationError as exc:
        print(f"sketchdiffuse: {exc}", file=sys.stderr)
        return 1
    where = f"on {args.server}" if args.server else "downloaded from the Hub to this computer"
    for title, names in (
        ("checkpoints", lists.checkpoints),
        ("LoRAs", lists.loras),
        ("ControlNets", lists.controlnets),
        ("style models (references)", lists.style_models),
        ("CLIP vision (references)", lists.clip_vision),
    ):
        if names or title in ("checkpoints", "ControlNets"):
            print(f"{title} {where}:")
            print("\n".join(f"  {name}" for name in names) if names else "  (none)")
    return 0


def _weighted(text: str, default: float = 1.0) -> tuple[str, float]:
    """``PATH@WEIGHT`` split at the last @ when what follows is a number (a path may hold @ and, on Windows,
    a drive letter's colon)."""
    head, at, tail = text.rpartition("@")
    if at:
        try:
            return head, float(tail)
        except ValueError:
            pass
    return text, default


def _controls(args: argparse.Namespace, sketch: np.ndarray) -> tuple[Control, ...]:
    """--control and --control-model into controls; every problem is one sentence."""
    from sketchdiffuse.document.errors import DocumentError
    from sketchdiffuse.io.images import open_image

    models: dict[str, str] = {}
    for item in args.control_model:
        kind, eq, model = item.partition("=")
        if not eq or kind.strip().lower() not in KINDS:
            raise DocumentError(f"--control-model takes KIND=MODEL with KIND one of {', '.join(KINDS)}; not '{item}'.")
        models[kind.strip().lower()] = model
    controls = []
    for item in args.control:
        kind, eq, rest = item.partition("=")
        kind = kind.strip().lower()
        if not eq or kind not in KINDS:
            raise DocumentError(
                f"--control takes KIND=IMAGE[@WEIGHT] with KIND one of {', '.join(KINDS)}; not '{item}'."
            )
        if kind not in models:
            raise DocumentError(f"The {kind} control needs its ControlNet: --control-model {kind}=MODEL.")
        path, weight = _weighted(rest)
        layer = open_image(path).pixels
        if layer.shape[:2] != sketch.shape[:2]:
            raise DocumentError(
                f"The control image '{path}' is {layer.shape[1]} x {layer.shape[0]}; the sketch is "
                f"{sketch.shape[1]} x {sketch.shape[0]}. They must be the same size."
            )
        controls.append(Control(ControlKind(kind), models[kind], control_image(ControlKind(kind), layer), weight))
    unused = sorted(set(models) - {item.partition("=")[0].strip().lower() for item in args.control})
    if unused:
        raise DocumentError(f"--control-model {unused[0]}=… names a ControlNet for no --control {unused[0]}=IMAGE.")
    return tuple(controls)


def _steering(args: argparse.Namespace, sketch: np.ndarray, project_controls: tuple[Control, ...]) -> dict[str, object]:
    """The request's controls (the project's control layers, then --control), LoRAs and references, checked
    before any model loads: a typo costs no download."""
    from sketchdiffuse.document.errors import DocumentError

    if args.reference and not args.ip_adapter:
        raise DocumentError("--reference pictures steer through an IP-Adapter: add --ip-adapter MODEL.")
    if args.ip_adapter and not args.reference:
        raise DocumentError("--ip-adapter reads reference pictures: add --reference IMAGE[@WEIGHT].")
    return {
        "controls": project_controls + _controls(args, sketch),
        "loras": tuple(Lora(str(Path(p).expanduser()), w) for p, w in map(_weighted, args.lora)),
        "references": tuple(Reference(_load_sketch(p)[0], w) for p, w in (_weighted(r, 0.6) for r in args.reference)),
        "ip_adapter": args.ip_adapter,
    }


def _load_sketch(path: str) -> tuple[np.ndarray, tuple[Control, ...]]:
    """The drawing over white, and for an .ora project the controls of its control layers (left out of the
    drawing, as in the window)."""
    if path.lower().endswith(".ora"):
        from sketchdiffuse.io.ora import read_ora
        from sketchdiffuse.session.requests import drawing_composite, layer_controls

        doc = read_ora(path).document
        return flatten_on(drawing_composite(doc)), layer_controls(doc)
    from sketchdiffuse.io.images import open_image

    return flatten_on(open_image(path).pixels), ()


def _load_mask(path: str, sketch: np.ndarray, blur: float) -> np.ndarray:
    """The mask as coverage (255 regenerates), the sketch's size, its edge softened by ``blur`` pixels."""
    from sketchdiffuse.document.errors import DocumentError
    from sketchdiffuse.document.selection import feather
    from sketchdiffuse.io.images import open_image

    image = open_image(path)
    grey = flatten_on(image.pixels).mean(axis=2).round().astype(np.uint8)  # transparent counts as white
    if grey.shape != sketch.shape[:2]:
        raise DocumentError(
            f"The mask '{path}' is {grey.shape[1]} x {grey.shape[0]}; the sketch is "
            f"{sketch.shape[1]} x {sketch.shape[0]}. They must be the same size."
        )
    mask = feather(grey, blur)
    if not mask.any():
        raise DocumentError(f"The mask '{path}' is black everywhere: nothing would be regenerated.")
    return mask


def _put_back(sketch: np.ndarray, result: GenerationResult) -> np.ndarray:
    """The whole picture: the sketch, with the result over the masked part only."""
    from sketchdiffuse.document.compose import composite
    from sketchdiffuse.document.layer import Layer
    from sketchdiffuse.document.rect import Rect
    from sketchdiffuse.session.region import region_layer

    request = result.request
    assert request.region is not None and request.mask is not None
    h, w = sketch.shape[:2]
    base = Layer("sketch", np.dstack([sketch, np.full((h, w), 255, np.uint8)]))
    layer = region_layer(w, h, result.image, Rect(*request.region), request.mask, "result")
    return flatten_on(composite([base, layer], Rect(0, 0, w, h)))


def _bar(done: int, total: int, width: int = 30) -> str:
    filled = int(width * done / max(total, 1))
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def generate_command(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from sketchdiffuse.document.errors import DocumentError
    from sketchdiffuse.generation import Engine, GenerationError, GenerationRequest, ModelRef, Progress, SizePolicy
    from sketchdiffuse.generation.backend import Backend
    from sketchdiffuse.generation.comfy.backend import ComfyBackend
    from sketchdiffuse.generation.errors import UnrecognisedModelError
    from sketchdiffuse.generation.family import Family
    from sketchdiffuse.generation.metadata import png_text
    from sketchdiffuse.io.images import export_image
    from sketchdiffuse.session.region import region_of

    problem = output_problem(args.output)
    if problem:
        print(f"sketchdiffuse: {problem}.", file=sys.stderr)
        return 2
    try:
        sketch, project_controls = _load_sketch(args.sketch)
        steering = _steering(args, sketch, project_controls)
        remote = args.server is not None
        ref = (
            ModelRef.on_server(args.model, args.server)
            if remote
            else ModelRef.parse(args.model, args.device, args.precision)
        )
        if args.config:
            ref = replace(ref, config_dir=str(Path(args.config).resolve()))
        if args.family or args.prediction:
            ref = replace(ref, override=FamilyOverride(base=args.family or "", prediction=args.prediction or ""))
        refiner = ModelRef.parse(args.refiner, args.device, args.precision) if args.refiner else None
        backend: Backend = ComfyBackend(args.server, args.token) if remote else Engine()

        def on_load(stage: str, done: int, total: int) -> None:
            if stage == "download" and total:
                print(
                    f"\rdownloading {_bar(done, total)} {done / 1e6:.0f} / {total / 1e6:.0f} MB",
                    end="",
                    file=sys.stderr,
                )
            elif stage == "load" and done == 0:
                print(f"\nloading {ref.name} ...", file=sys.stderr)

        family: Family = backend.prepare(ref, on_load)  # loaded here, or found on the server
        if isinstance(backend, ComfyBackend):
            print(f"generating on {backend.where} with {args.model}", file=sys.stderr)
        mask = _load_mask(args.mask, sketch, args.mask_blur) if args.mask else None
        request = GenerationRequest(
            prompt=args.prompt,
            negative_prompt=args.negative,
            model=ref,
            init_image=sketch,
            strength=args.strength,
            steps=family.default_steps if args.steps is None else args.steps,
            guidance_scale=family.default_guidance if args.guidance is None else args.guidance,
            seed=args.seed,
            scheduler=args.scheduler or family.default_scheduler,
            size_policy=SizePolicy(args.size),
            refiner=refiner,
            refiner_switch=args.refiner_switch,
            **steering,  # type: ignore[arg-type]
        )
        if mask is not None:  # only the masked part and the context around it go to the model
            region = region_of(
                premultiply(np.dstack([sketch, np.full(sketch.shape[:2], 255, np.uint8)])),
                mask,
                args.mask_padding,
                family.native_size,
                SizePolicy(args.size),
                "keep",
            )
            area = region.area
            request = replace(
                request,
                init_image=region.drawing,
                mask=region.mask,
                region=(area.x, area.y, area.w, area.h),
                refiner=None,
                controls=tuple(replace(c, image=c.image[area.slices()]) for c in request.controls),
            )

        def on_progress(p: Progress) -> None:
            print(
                f"\rstep {p.step}/{p.total} {_bar(p.step, p.total)} {p.remaining:5.1f}s left ", end="", file=sys.stderr
            )

        result = backend.generate(request, on_progress=on_progress)
        print(file=sys.stderr)
        from sketchdiffuse.generation.request import GenerationResult

        assert isinstance(result, GenerationResult)
        picture = result.image if mask is None else _put_back(sketch, result)
        rgba = np.concatenate([picture, np.full((*picture.shape[:2], 1), 255, np.uint8)], axis=2)
        try:
            export_image(rgba, args.output, text=png_text(result))
        except OSError as exc:
            print(f"\nsketchdiffuse: '{args.output}' could not be written: {describe_os_error(exc)}.", file=sys.stderr)
            return 1
    except (GenerationError, DocumentError, OSError) as exc:
        print(f"\nsketchdiffuse: {exc}", file=sys.stderr)
        if isinstance(exc, UnrecognisedModelError):
            print(f"On the command line: --family {'|'.join(BASES)}.", file=sys.stderr)
        return 1
    for warning in result.warnings:
        print(f"note: {warning}", file=sys.stderr)
    print(f"wrote {args.output} (seed {result.seed}, {result.steps_run} steps, {result.timings['total']:.1f} s)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    tuning.share_one_heap()  # first, before Qt or torch start threads
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "generate":
        return generate_command(build_parser().parse_args(args))
    if args and args[0] == "models":
        return models_command(build_parser().parse_args(args))
    parser = argparse.ArgumentParser(prog="sketchdiffuse", description="Paint a sketch, turn it into an image.")
    parser.add_argument("file", nargs="?", help="an .ora project or an image to open")
    options = parser.parse_args(args)
    from sketchdiffuse.app import run_app

    return run_app(options.file)
