"""The Docker image built for real and run: scripts/build_image.sh (a debootstrapped Debian base and buildah, no
Docker engine or registry) builds the Dockerfile once, and each test runs the image as ``docker run --rm`` would:
a fresh container of it, as its non-root user, with its volumes bound to temporary folders, checked from outside."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from flarecast import __version__

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
TAG = "localhost/flarecast:test"
SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])  # debootstrap lives in sbin


def _sudo() -> list[str] | None:
    """The prefix that runs buildah as root: none for root, ``sudo -n`` where that works, else None."""
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n"]
    return None


@pytest.fixture(scope="session")
def image():
    """The image built by scripts/build_image.sh (layers cached: a rebuild with no change takes seconds) and its
    OCI config (entrypoint, command, user, volumes, working folder)."""
    for tool in ("debootstrap", "buildah"):
        if shutil.which(tool, path=SBIN_PATH) is None:
            pytest.skip(f"{tool} is not installed: the image test builds the Dockerfile with debootstrap and "
                        "buildah (apt-get install -y debootstrap buildah; .ci/run does)")
    sudo = _sudo()
    if sudo is None:
        pytest.skip("building and running the image needs root or passwordless sudo (buildah --isolation chroot)")
    build = subprocess.run([*sudo, "bash", str(ROOT / "scripts" / "build_image.sh"), TAG], cwd=ROOT,
                           capture_output=True, text=True, timeout=1800, env={**os.environ, "PATH": SBIN_PATH})
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    inspect = subprocess.run([*sudo, "buildah", "inspect", "--type", "image", TAG], capture_output=True, text=True,
                             check=True, timeout=60)
    return sudo, json.loads(inspect.stdout)["OCIv1"]["config"]


def _volumes(config: dict, tmp_path: Path) -> dict[str, Path]:
    """A host folder for each of the image's volumes, writable by the image's user."""
    host = {}
    for volume in sorted(config["Volumes"]):
        host[volume] = tmp_path / volume.strip("/")
        host[volume].mkdir()
        host[volume].chmod(0o777)
    return host


def run_image(image, volumes: dict[str, Path], *args: str, entrypoint: list[str] | None = None,
              timeout: float = 900) -> subprocess.CompletedProcess:
    """``docker run --rm -v HOST:VOLUME... IMAGE ARGS`` with buildah: the image's entrypoint (or ``entrypoint``)
    with ``args`` (default: the image's command), as the image's user, in a container removed afterwards."""
    sudo, config = image
    ctr = subprocess.run([*sudo, "buildah", "from", "--pull-never", TAG], capture_output=True, text=True,
                         check=True, timeout=120).stdout.strip()
    try:
        # buildah 1.28 run gives one of several binds over declared VOLUMEs (which one varies) to an anonymous
        # volume instead; dropping this container's declarations (not the image's) lets every bind hold.
        undeclare = [a for v in config["Volumes"] for a in ("--volume", f"{v}-")]
        subprocess.run([*sudo, "buildah", "config", *undeclare, ctr], check=True, timeout=60)
        binds = [a for dst, src in volumes.items() for a in ("-v", f"{src}:{dst}")]
        command = [*(entrypoint or config["Entrypoint"]), *(args or config["Cmd"])]
        return subprocess.run([*sudo, "buildah", "run", "--isolation", "chroot", "--user", config["User"], *binds,
                               ctr, "--", *command], capture_output=True, text=True, timeout=timeout)
    finally:
        subprocess.run([*sudo, "buildah", "rm", ctr], capture_output=True, timeout=120)


def _tree(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every file under root (job logs aside) with its size, modification time in ns and owner."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns, p.stat().st_uid)
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != "job.json"}


def test_the_image_declares_a_non_root_user_and_the_three_volumes(image):
    _, config = image
    assert config["User"] == "1000:1000" and config["Entrypoint"] == ["flarecast"]
    assert sorted(config["Volumes"]) == ["/data", "/models", "/runs"] and config["WorkingDir"] == "/runs"


def test_flarecast_runs_in_the_image_with_cpu_torch_and_no_dev_tools(image):
    result = run_image(image, {}, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"flarecast {__version__}"
    probe = ("import importlib.util as u, os, torch; "
             "print(os.getuid(), torch.__version__, [m for m in ('pytest', 'ruff', 'mkdocs') if u.find_spec(m)])")
    result = run_image(image, {}, "-c", probe, entrypoint=["python"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split(maxsplit=2) == ["1000", "2.13.0+cpu", "[]"]


def test_the_default_command_runs_the_demo_on_the_embedded_data(image, tmp_path):
    """The image's command (``demo --out /runs/demo``), smaller: one seed of one epoch of a narrow network on
    6-hourly windows (about a minute; the full default took 6 min 45 s in the image, docs/docker.md)."""
    _, config = image
    volumes = _volumes(config, tmp_path)
    args = [*config["Cmd"], "--seeds", "1", "train.epochs=1", "model.hidden=8", "samples.stride=6h",
            "train.threshold_score=tss"]
    result = run_image(image, volumes, *args)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "X recall" in result.stdout and "focal loss" in result.stdout
    out = volumes["/runs"] / "demo"
    comp = json.loads((out / "comparison.json").read_text())
    assert set(comp["methods"]) == {"CE", "focal"} and comp["seeds"] == [0]
    # The embedded GOES-15 series: its test split starts 2013-05-28 and holds the X flares of late 2013.
    assert comp["test"]["from"].startswith("2013-05-28") and comp["test"]["positives"]["X"] >= 20
    assert (out / "report.html").stat().st_uid == 1000  # written by the image's user, on the host's folder


def test_a_batch_job_in_the_image_writes_to_the_volumes_and_a_rerun_skips_every_step(image, tmp_path):
    """configs/batch-sample.yaml: ingest the embedded sample, train a small model, forecast, draw the dashboard."""
    _, config = image
    volumes = _volumes(config, tmp_path)
    job = ["batch", "/app/configs/batch-sample.yaml", "--root", "/"]
    first = run_image(image, volumes, *job)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    log = json.loads((volumes["/runs"] / "sample" / "job.json").read_text())
    assert log["status"] == "ok" and [(s["name"], s["status"]) for s in log["steps"]] == [
        ("ingest-goes", "done"), ("ingest-events", "done"), ("train", "done"), ("forecast", "done"),
        ("dashboard", "done")]
    # The embedded series ends 2013-12-31T23:00: the latest issue time is the next midnight, and names the file.
    forecast = json.loads((volumes["/runs"] / "sample" / "forecasts" / "20140101T0000Z.json").read_text())
    rows = forecast["forecasts"]
    assert [r["issue_time"] for r in rows] == ["2014-01-01T00:00:00Z"] * len(rows) and rows
    assert all(0.0 <= r["probability"] <= 1.0 for r in rows)
    page = (volumes["/runs"] / "sample" / "dashboard" / "index.html").read_text()
    assert all(f"<td>{r['probability']:.3f}</td>" in page for r in rows)
    assert (volumes["/models"] / "sample" / "weights.safetensors").stat().st_size > 0
    assert (volumes["/data"] / "sample.zarr" / "goes").is_dir()
    before = {v: _tree(p) for v, p in volumes.items()}
    assert {uid for files in before.values() for *_, uid in files.values()} == {1000}

    second = run_image(image, volumes, *job)
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    log = json.loads((volumes["/runs"] / "sample" / "job.json").read_text())
    assert [s["status"] for s in log["steps"]] == ["skipped"] * 5
    assert {v: _tree(p) for v, p in volumes.items()} == before
