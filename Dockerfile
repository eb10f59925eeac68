# The bench-action container action. The runner builds this on every job (`image: Dockerfile`
# in action.yml) and runs it as root with the Docker socket mounted; the model server runs in a
# sibling container, so this image needs no GPU libraries. BASE_IMAGE lets the tests build it
# offline on a local Python base; PIP_INDEX_URL / PIP_FIND_LINKS / PIP_NO_INDEX (read by pip)
# let a build use a mirror or a folder of wheels.
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}

ARG PIP_INDEX_URL
ARG PIP_FIND_LINKS
ARG PIP_NO_INDEX
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PATH=/opt/bench-action/venv/bin:$PATH \
    PYTHONPATH=/opt/bench-action/src

# Dependencies only, read from pyproject.toml: this layer is rebuilt only when they change.
COPY pyproject.toml /opt/bench-action/
RUN python3 -m venv /opt/bench-action/venv \
 && python3 -c "import tomllib; print('\n'.join(tomllib.load(open('/opt/bench-action/pyproject.toml', 'rb'))['project']['dependencies']))" \
      > /opt/bench-action/requirements.txt \
 && pip install -r /opt/bench-action/requirements.txt \
 && pip uninstall -q -y pip setuptools

# The code last: a change to it rebuilds only this layer.
COPY LICENSE /opt/bench-action/
COPY benchaction /opt/bench-action/src/benchaction
COPY entrypoint.py /opt/bench-action/
RUN python3 -m compileall -q /opt/bench-action/src

# No USER: the runner requires root (the workspace and file-command mounts belong to it), and
# WORKDIR is replaced by /github/workspace anyway.
ENTRYPOINT ["python3", "/opt/bench-action/entrypoint.py"]
