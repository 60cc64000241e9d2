# flarecast batch image: `flarecast` is the entrypoint; /data (raw files and the store), /models and /runs are
# volumes. The install steps are the README's set-up without the dev extra, split so that a code change reuses
# the torch and dependency layers (tests/test_docker.py compares them). TORCH_INDEX picks the torch build: CPU
# wheels by default, a CUDA index (e.g. https://download.pytorch.org/whl/cu128) for GPU hosts. BASE is any image
# with Python 3.11 and a `pip` that may install (scripts/build_image.sh makes one with debootstrap where no
# registry is reachable); PIP_FIND_LINKS and PIP_CERT name a folder of local wheels and a CA bundle (a proxy's)
# mounted into the build by that script, if the machine has them; neither stays in the image.
ARG BASE=python:3.11-slim
FROM ${BASE}

ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ARG PIP_FIND_LINKS
ARG PIP_CERT
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_EXTRA_INDEX_URL=${TORCH_INDEX} \
    PYTHONUNBUFFERED=1 \
    MPLBACKEND=Agg

RUN useradd --create-home --uid 1000 flarecast
WORKDIR /app

# torch first, in its own layer; then the dependencies pyproject.toml names, without the package: a code change
# rebuilds only the (small) package layer below.
RUN pip install torch==2.13.0
COPY pyproject.toml ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY README.md ./
COPY flarecast ./flarecast
COPY configs ./configs
RUN pip install --no-deps -e .

RUN mkdir -p /data /models /runs && chown flarecast:flarecast /data /models /runs
VOLUME ["/data", "/models", "/runs"]
USER 1000:1000
WORKDIR /runs

ENTRYPOINT ["flarecast"]
CMD ["demo", "--out", "/runs/demo"]
