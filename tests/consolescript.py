"""The kimi-fann command of the interpreter running the tests."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def kimi_fann_command() -> list[str]:
    """The console script installed beside this interpreter, else ``python -m kimi_fann.cli``.

    Only the interpreter's own scripts directory is searched: the first ``kimi-fann`` on PATH
    may belong to another environment, with another build of the extension.
    """
    script = shutil.which("kimi-fann", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "kimi_fann.cli"]
