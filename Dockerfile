# syntax=docker/dockerfile:1
#
# Wijkwerk API image: `docker build -t wijkwerk .`, then run it with an external PostgreSQL:
#
#   docker run -p 8000:8000 -e DATABASE_URL=postgresql://wijkwerk:...@db:5432/wijkwerk \
#     -e WIJKWERK_ISSUER=https://api.example.nl -e WIJKWERK_SECRET_KEY=... \
#     -e WIJKWERK_BSN_ENCRYPTION_KEY=... -e WIJKWERK_BSN_INDEX_KEY=... wijkwerk
#
# The image runs production settings (which refuse to start without those variables) and migrates
# the database on start. `docker run wijkwerk migrate` or `... openapi export` run other commands.
# See docs/operations.md.

ARG PYTHON_IMAGE=python:3.11-slim

# -- builder: a virtualenv with the dependencies (pinned by constraints.txt) and the project -------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# Every dependency ships wheels for linux/amd64 and linux/arm64; on a platform without them, install
# build-essential here (in the builder only, never in the runtime image).
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /srv/wijkwerk

# Dependencies first, in their own layer, so a code change does not reinstall them.
COPY pyproject.toml constraints.txt README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install --upgrade pip \
    && pip install -r /tmp/requirements.txt -c constraints.txt

# The project, installed in place: migrations/ and alembic.ini are found next to app/ at run time.
COPY alembic.ini ./
COPY migrations ./migrations
COPY app ./app
RUN pip install --no-deps --editable . \
    && python -m compileall -q /srv/wijkwerk/app /srv/wijkwerk/migrations

# -- runtime: slim Python, no compilers, a non-root user -----------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

RUN groupadd --system --gid 10001 wijkwerk \
    && useradd --system --uid 10001 --gid wijkwerk --no-create-home --shell /usr/sbin/nologin wijkwerk \
    && install -d -o wijkwerk -g wijkwerk -m 0750 /var/lib/wijkwerk

# Same paths as in the builder (the editable install and the venv's scripts refer to them).
# Code and libraries stay owned by root: the service cannot change its own code.
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /srv/wijkwerk /srv/wijkwerk

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    WIJKWERK_ENVIRONMENT=production \
    WIJKWERK_DATA_DIR=/var/lib/wijkwerk \
    WIJKWERK_LOG_LEVEL=INFO

WORKDIR /srv/wijkwerk
USER 10001:10001
EXPOSE 8000

# Liveness only (/healthz never touches the database); orchestrators should probe /readyz for traffic.
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"]

# `wijkwerk serve` migrates to head and runs uvicorn; SIGTERM lets in-flight requests finish.
# Scale with more containers (one worker each) or add `--workers N`.
ENTRYPOINT ["wijkwerk"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
