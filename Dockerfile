# syntax=docker/dockerfile:1
# Build: docker build -t shortlist .
# Migrate: docker run --rm -e SHORTLIST_DATABASE_URL=... shortlist shortlist migrate
# Serve:   docker run -p 8000:8000 -e SHORTLIST_DATABASE_URL=... -e SHORTLIST_SECRET_KEY=... shortlist
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY api ./api
COPY cli ./cli
COPY identity ./identity
COPY infra ./infra
COPY models ./models
COPY submissions ./submissions
COPY reviewers ./reviewers
COPY notifications ./notifications
RUN /opt/venv/bin/pip install .

FROM python:3.11-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmagic1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app shortlist
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY alembic.ini ./
COPY alembic ./alembic
COPY api ./api
COPY cli ./cli
COPY identity ./identity
COPY infra ./infra
COPY models ./models
COPY submissions ./submissions
COPY reviewers ./reviewers
COPY notifications ./notifications
RUN mkdir -p /app/var && chown shortlist /app/var
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SHORTLIST_ENVIRONMENT=production \
    SHORTLIST_DATABASE_URL=sqlite:////app/var/shortlist.db \
    SHORTLIST_STORAGE_URL=file:///app/var/blobs
USER shortlist
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
CMD ["shortlist", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
