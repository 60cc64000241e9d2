# flarecast batch image: `flarecast` is the entrypoint; /data (raw files and the store), /models and /runs are
# volumes. The two install steps are the README's set-up (tests/test_docker.py compares them). TORCH_INDEX picks
# the torch build: CPU wheels by default, a CUDA index (e.g. https://download.pytorch.org/whl/cu128) for GPU hosts.
FROM python:3.11-slim

ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_EXTRA_INDEX_URL=${TORCH_INDEX} \
    PYTHONUNBUFFERED=1 \
    MPLBACKEND=Agg

RUN useradd --create-home --uid 1000 flarecast
WORKDIR /app

# torch first, in its own layer: a code change then rebuilds only the (small) package layer below.
RUN pip install torch==2.13.0

COPY pyproject.toml README.md ./
COPY flarecast ./flarecast
COPY configs ./configs
RUN pip install -e ".[dev]"

RUN mkdir -p /data /models /runs && chown flarecast:flarecast /data /models /runs
VOLUME ["/data", "/models", "/runs"]
USER 1000:1000
WORKDIR /runs

ENTRYPOINT ["flarecast"]
CMD ["demo", "--out", "/runs/demo"]
