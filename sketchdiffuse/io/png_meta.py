"""The AUTOMATIC1111 ``parameters`` text that image tools read from generated PNGs."""

from __future__ import annotations

import re
from collections.abc import Mapping

PARAMETERS_KEY = "parameters"
_NEGATIVE = "Negative prompt:"
# key: value pairs of the settings line; values may be quoted when they hold commas.
_PAIR = re.compile(r'\s*([\w ]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')


def _quote(value: str) -> str:
    if any(c in value for c in ',:"\n'):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return value


def format_parameters(prompt: str, negative: str, settings: Mapping[str, object]) -> str:
    """Prompt line(s), an optional ``Negative prompt:`` line, then ``Key: value, ...`` in the given order."""
    lines = [prompt.strip()]
    if negative.strip():
        lines.append(f"{_NEGATIVE} {negative.strip()}")
    lines.append(", ".join(f"{k}: {_quote(str(v))}" for k, v in settings.items() if v is not None and v != ""))
    return "\n".join(lines)


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        out, i, body = [], 0, value[1:-1]
        while i < len(body):
            if body[i] == "\\" and i + 1 < len(body):
                out.append("\n" if body[i + 1] == "n" else body[i + 1])
                i += 2
            else:
                out.append(body[i])
                i += 1
        return "".join(out)
    return value


def parse_parameters(text: str) -> tuple[str, str, dict[str, str]]:
    """Split a ``parameters`` text into (prompt, negative prompt, settings)."""
    lines = text.strip().split("\n")
    settings: dict[str, str] = {}
    if lines and lines[-1].lstrip().startswith("Steps:"):
        settings = {m.group(1).strip(): _unquote(m.group(2)) for m in _PAIR.finditer(lines.pop())}
    prompt_lines: list[str] = []
    negative_lines: list[str] = []
    for line in lines:
        if negative_lines or line.startswith(_NEGATIVE):
            negative_lines.append(line.removeprefix(_NEGATIVE).strip() if not negative_lines else line)
        else:
            prompt_lines.append(line)
    return "\n".join(prompt_lines).strip(), "\n".join(negative_lines).strip(), settings
