"""Find the Lambda runtime's Python (python3.13) on this machine: on PATH, or installed through pyenv.

python scripts/runtime_python.py 3.13     # prints the interpreter's real path, or explains on stderr (exit 1)

`sam build` and the built-artifact test need the runtime's own interpreter. With pyenv, a `python3.13` shim on
PATH exists even when 3.13 is not selected and then fails, so every candidate is run once to prove it works.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

_PROBE = "import sys; print(sys.executable); print('%d.%d' % sys.version_info[:2])"
_PROBE_TIMEOUT_SECONDS = 20


class RuntimePythonNotFoundError(LookupError):
    """No working interpreter for the requested version; the message says where we looked."""


def _probe(candidate: str, version: str, env: dict[str, str] | None = None) -> str | None:
    """The real executable behind ``candidate`` if it runs and is ``version``, else None."""
    try:
        completed = subprocess.run(  # noqa: S603 -- runs a candidate interpreter with a fixed probe
            [candidate, "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=_PROBE_TIMEOUT_SECONDS,
            check=False,
            env=env,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = completed.stdout.split()
    if completed.returncode != 0 or len(lines) != 2 or lines[1] != version:
        return None
    return lines[0]


def _pyenv_versions(version: str) -> Iterator[str]:
    """Installed pyenv versions for ``version`` (e.g. 3.13 -> 3.13.0), newest first."""
    pyenv = shutil.which("pyenv")
    if pyenv is None:
        return
    try:
        listed = subprocess.run(  # noqa: S603 -- pyenv with fixed arguments
            [pyenv, "versions", "--bare"], capture_output=True, text=True, timeout=30, check=False
        ).stdout.split()
    except (OSError, subprocess.TimeoutExpired):
        return
    pattern = re.compile(rf"^{re.escape(version)}\.(\d+)$")
    matching = [(int(m.group(1)), name) for name in listed if (m := pattern.match(name))]
    for _, name in sorted(matching, reverse=True):
        yield name


def find_runtime_python(version: str = "3.13") -> Path:
    """The real path of a working ``python<version>``; raises RuntimePythonNotFoundError saying where it looked."""
    name = f"python{version}"
    tried: list[str] = []
    on_path = shutil.which(name)
    if on_path is not None:
        found = _probe(on_path, version)
        if found:
            return Path(found)
        tried.append(f"{on_path} (on PATH, does not run as {version})")
    else:
        tried.append(f"{name} (not on PATH)")
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    for installed in _pyenv_versions(version):
        candidate = Path(pyenv_root) / "versions" / installed / "bin" / name
        found = _probe(str(candidate), version)
        if found:
            return Path(found)
        tried.append(f"{candidate} (pyenv {installed})")
    if shutil.which("pyenv") is None:
        tried.append("pyenv (not installed)")
    raise RuntimePythonNotFoundError(f"no working {name}: tried " + "; ".join(tried))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version", nargs="?", default="3.13", help="major.minor, e.g. 3.13")
    args = parser.parse_args(argv)
    try:
        print(find_runtime_python(args.version))
    except RuntimePythonNotFoundError as err:
        print(err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
