"""Opening libtorch ahead of ``import torch`` without holding the GIL (generation/native_libraries)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sketchdiffuse.generation import native_libraries

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the early load is Linux-only")


def run_python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter: this test process has imported torch long ago."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, **env},
    )


@linux_only
def test_libtorch_is_loaded_before_the_import_and_torch_then_works(tmp_path: Path) -> None:
    result = run_python(
        """
        import sys
        from sketchdiffuse.generation.native_libraries import heavy_libraries, open_without_gil
        libraries = heavy_libraries()
        opened = open_without_gil(libraries)
        maps = open("/proc/self/maps").read()
        print("listed", [p.name for p, _ in libraries])
        print("opened", len(opened) == len(libraries))
        print("mapped", "libtorch_cpu.so" in maps, "torch" in sys.modules)
        import torch
        print("sum", float(torch.ones(3).sum()))
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("listed ['libtorch_global_deps.so', 'libtorch.so'")
    assert lines[1:] == ["opened True", "mapped True False", "sum 3.0"]


@linux_only
def test_rtld_global_requests_leave_the_loading_to_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TORCH_USE_RTLD_GLOBAL", "1")
    assert native_libraries.heavy_libraries() == []


def test_a_library_that_fails_to_open_stops_the_early_load(tmp_path: Path) -> None:
    junk = tmp_path / "libjunk.so"
    junk.write_bytes(b"not an ELF file")
    later = Path("/nonexistent/libalso.so")
    mode = os.RTLD_NOW | os.RTLD_LOCAL
    assert native_libraries.open_without_gil([(junk, mode), (later, mode)]) == []
    assert native_libraries.open_without_gil([]) == []


@linux_only
@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler to build the probe library")
def test_python_threads_run_while_a_library_initialises(tmp_path: Path) -> None:
    """A probe library's initialiser waits until Python code on another thread creates a file.

    Were the GIL held during dlopen, that thread could not run until the initialiser gave up
    (after 20 s), and the probe would report that it never saw the file.
    """
    source = tmp_path / "probe.c"
    source.write_text(
        textwrap.dedent(
            """
            #include <stdio.h>
            #include <stdlib.h>
            #include <unistd.h>
            __attribute__((constructor)) static void wait_for_python(void) {
                const char *flag = getenv("PROBE_FLAG"), *report = getenv("PROBE_REPORT");
                int seen = 0;
                for (int i = 0; i < 2000 && !seen; i++) { seen = access(flag, F_OK) == 0; usleep(10000); }
                FILE *out = fopen(report, "w");
                fputs(seen ? "seen" : "timed out", out);
                fclose(out);
            }
            """
        )
    )
    library = tmp_path / "libprobe.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    flag, report = tmp_path / "flag", tmp_path / "report"
    result = run_python(
        f"""
        import os, threading, time
        from pathlib import Path
        from sketchdiffuse.generation.native_libraries import open_without_gil
        loader = threading.Thread(target=open_without_gil, args=([(Path({str(library)!r}), os.RTLD_NOW)],))
        loader.start()
        time.sleep(0.2)  # the loader is inside dlopen by now
        Path({str(flag)!r}).touch()
        loader.join()
        """,
        tmp_path,
        PROBE_FLAG=str(flag),
        PROBE_REPORT=str(report),
    )
    assert result.returncode == 0, result.stderr
    assert report.read_text() == "seen"
