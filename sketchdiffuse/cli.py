"""Command line: no arguments opens the window; subcommands work headless."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sketchdiffuse", description="Paint a sketch, turn it into an image.")
    parser.add_argument("file", nargs="?", help="an .ora project or an image to open")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    options = parser.parse_args(args)
    from sketchdiffuse.app import run_app

    return run_app(options.file)
