# syntax=docker/dockerfile:1
# Build:   docker build -t shortlist .
# Migrate: docker run --rm -e SHORTLIST_DATABASE_URL=... shortlist shortlist migrate
# Serve:   docker run -p 8000:8000 -e SHORTLIST_PUBLIC_URL=https://shortlist.example.org \
#            -e SHORTLIST_SECRET_KEY=... -e SHORTLIST_DATABASE_URL=... -v shortlist-data:/data shortlist
# The whole production shape (PostgreSQL, S3, clamd, Redis, API, job workers): compose.yaml.
#
# The install steps are those of .ci/wheel-check, which CI runs on every change (no container
# engine runs there): the dependencies from uv.lock with their hashes, then the wheel, with no
# source tree in the image.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 UV_NO_CACHE=1
# uv, from PyPI, at the version the Makefile installs.
ARG UV_VERSION=0.13.9
RUN pip install "uv==${UV_VERSION}"
WORKDIR /src
# The dependency layer: rebuilt only when the lock changes, not when the code does.
COPY pyproject.toml uv.lock ./
RUN uv export --locked --no-dev --no-emit-project --format requirements-txt \
      --output-file /tmp/requirements.txt \
 && python -m venv /opt/venv \
 && uv pip install --python /opt/venv/bin/python --require-hashes --no-deps \
      -r /tmp/requirements.txt
# The code, as a wheel (the migrations are inside it: infra/migrations).
COPY README.md ./
COPY api ./api
COPY cli ./cli
COPY identity ./identity
COPY infra ./infra
COPY models ./models
COPY submissions ./submissions
COPY reviewers ./reviewers
COPY notifications ./notifications
COPY clients/python/shortlist_client ./clients/python/shortlist_client
RUN uv build --wheel --out-dir /tmp/dist . \
 && uv pip install --python /opt/venv/bin/python --no-deps /tmp/dist/*.whl \
 && uv pip check --python /opt/venv/bin/python

FROM ${PYTHON_IMAGE} AS runtime
# fonts-nanum: Hangul in the decision report's charts (matplotlib measures their text with it).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmagic1 fonts-nanum \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data shortlist \
 && mkdir -p /data && chown shortlist /data
COPY --from=build /opt/venv /opt/venv
# matplotlib's font list, made once at build time (with the fonts above) and only read after.
ENV MPLCONFIGDIR=/opt/matplotlib
RUN /opt/venv/bin/python -c "import matplotlib.font_manager" && chmod -R a+rX /opt/matplotlib
# Local data (the SQLite database and file blobs when no PostgreSQL or S3 is configured).
VOLUME ["/data"]
WORKDIR /data
# SHORTLIST_PUBLIC_URL: the public base URL clients reach the service at (behind the gateway);
# the OAuth issuer, redirect URIs and links are made from it. Set it at run time: the default
# is only loopback. FORWARDED_ALLOW_IPS (uvicorn's own variable): trust X-Forwarded-For and
# X-Forwarded-Proto from these addresses only, the gateway's. Every setting: README, Settings.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SHORTLIST_ENVIRONMENT=production \
    SHORTLIST_DATABASE_URL=sqlite:////data/shortlist.db \
    SHORTLIST_STORAGE_URL=file:///data/blobs \
    SHORTLIST_PUBLIC_URL=http://127.0.0.1:8000 \
    FORWARDED_ALLOW_IPS=127.0.0.1
USER shortlist
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
CMD ["shortlist", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
