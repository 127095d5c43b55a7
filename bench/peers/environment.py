"""The virtual environments the peer workers run in: ``bench/.venv-peers`` and, for peers that
cannot be installed next to the others, ``bench/.venv-peers-<group>``.

Each holds ``pip install -e <repo>`` plus the peers pinned in ``requirements.txt`` (or
``requirements-<group>.txt``), with the same SDK and OpenTelemetry pins. A venv is
reused while the hash of what went into it (the pins, the project's own dependencies, the
Python version) matches the one written into it after a successful install; ``recreate=True``
rebuilds it. When the pins cannot be installed together, the project and the SDK pins are
installed first and then each peer line on its own, so one broken peer fails alone: its
variants are reported as FAILED with pip's reason.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HASH_FILE = "wikitrace-peers.sha256"
FAILURES_FILE = "wikitrace-peers-failures.txt"
# The SDK and OpenTelemetry pins every variant shares; installed with the project first.
BASE_PACKAGES = ("openai", "anthropic", "httpx2", "opentelemetry-api", "opentelemetry-sdk", "protobuf")


@dataclass
class PeerEnvironment:
    """A ready venv: its interpreter, whether it was reused, and pins that failed to install."""

    python: Path
    reused: bool
    failed: dict[str, str] = field(default_factory=dict)


def requirements_file(group: str = "") -> Path:
    """``requirements.txt`` for the shared venv, ``requirements-<group>.txt`` for a group's own."""
    return Path(__file__).with_name(f"requirements-{group}.txt" if group else "requirements.txt")


def venv_path(group: str = "") -> Path:
    return REPO / "bench" / (f".venv-peers-{group}" if group else ".venv-peers")


def requirement_lines(requirements: Path) -> list[str]:
    """The pinned requirement lines, comments and blanks dropped."""
    lines = (line.split("#", 1)[0].strip() for line in requirements.read_text().splitlines())
    return [line for line in lines if line]


def package_name(line: str) -> str:
    """``name==1.0`` -> ``name``."""
    for separator in ("==", ">=", "<=", "<", ">", "~=", "!=", "["):
        line = line.split(separator, 1)[0]
    return line.strip().lower()


def requirements_hash(requirements: Path, python_version: str) -> str:
    """What decides whether an existing venv can be reused."""
    try:
        import tomllib  # Python 3.11+

        project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
        dependencies = "\n".join(project.get("dependencies", []))
    except ImportError:  # 3.10: any change to pyproject.toml rebuilds
        dependencies = (REPO / "pyproject.toml").read_text()
    digest = hashlib.sha256()
    digest.update(requirements.read_bytes())
    digest.update(dependencies.encode())
    digest.update(python_version.encode())
    return digest.hexdigest()


def _python_in(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _pip(python: Path, *args: str, log: Path) -> subprocess.CompletedProcess[str]:
    command = [str(python), "-m", "pip", "install", "--disable-pip-version-check", *args]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=False)
    with log.open("a") as handle:
        handle.write(f"$ {' '.join(command)}\n{result.stdout}\n{result.stderr}\n")
    return result


def _reason(result: subprocess.CompletedProcess[str]) -> str:
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    return " ".join(errors[-2:] or result.stderr.strip().splitlines()[-1:])[:400]


def _install(python: Path, requirements: Path, log: Path) -> dict[str, str]:
    """Installs everything; returns {requirement line: reason} for the lines that failed."""
    lines = requirement_lines(requirements)
    result = _pip(python, "-e", str(REPO), "-r", str(requirements), log=log)
    if result.returncode == 0:
        return {}
    print(f"  installing all pins together failed ({_reason(result)}); installing one by one", flush=True)
    base = [line for line in lines if package_name(line) in BASE_PACKAGES]
    result = _pip(python, "-e", str(REPO), *base, log=log)
    if result.returncode != 0:
        raise RuntimeError(f"cannot install the project and the SDK pins: {_reason(result)}")
    failed = {}
    for line in lines:
        if line not in base and (result := _pip(python, line, *base, log=log)).returncode != 0:
            failed[line] = _reason(result)
    return failed


def prepare(group: str = "", recreate: bool = False) -> PeerEnvironment:
    """Creates or reuses a peers' venv. Raises ``RuntimeError`` when even the base install fails."""
    venv, requirements = venv_path(group), requirements_file(group)
    python_version = f"{sys.version_info.major}.{sys.version_info.minor}"
    expected = requirements_hash(requirements, python_version)
    python = _python_in(venv)
    marker = venv / HASH_FILE
    if not recreate and python.exists() and marker.exists() and marker.read_text().strip() == expected:
        return PeerEnvironment(python, reused=True, failed=_read_failures(venv))
    if venv.exists():
        shutil.rmtree(venv)
    print(f"creating {venv.relative_to(REPO)} (a few minutes; log in {venv.name}/install.log)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    failed = _install(python, requirements, venv / "install.log")
    (venv / FAILURES_FILE).write_text("".join(f"{line}\t{reason}\n" for line, reason in failed.items()))
    marker.write_text(expected)
    return PeerEnvironment(python, reused=False, failed=failed)


def _read_failures(venv: Path) -> dict[str, str]:
    path = venv / FAILURES_FILE
    if not path.exists():
        return {}
    pairs = (line.split("\t", 1) for line in path.read_text().splitlines() if "\t" in line)
    return {line: reason for line, reason in pairs}
