# SRM production image: gunicorn (web), Celery worker and beat all run from it.
# docker-compose.yml wires it to PostgreSQL and Redis.

# --- Front-end assets, built from package-lock.json ----------------------------------------------
FROM node:20-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm run --silent vendor

# --- Application ---------------------------------------------------------------------------------
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SRM_VAR_DIR=/app/var

RUN groupadd --system --gid 1000 srm \
    && useradd --system --uid 1000 --gid srm --home-dir /app --shell /usr/sbin/nologin srm

WORKDIR /app

# PostgreSQL's client tools for `manage.py backup` / `restore` (pg_dump, pg_restore).
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

# python-ldap (LDAP sign-in) is built against OpenLDAP's and SASL's headers; the compiler and
# headers go again after the build, the libraries it links stay.
COPY requirements/base.txt requirements/base.txt
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libldap2-dev libsasl2-dev \
    && pip install -r requirements/base.txt \
    && apt-get purge -y --auto-remove gcc libldap2-dev libsasl2-dev \
    && apt-get install -y --no-install-recommends libldap-2.5-0 libsasl2-2 \
    && rm -rf /var/lib/apt/lists/*

COPY . .
COPY --from=assets /build/static/vendor/ static/vendor/

# Static files are collected at build time (served by WhiteNoise); the key is a build-only dummy.
RUN DEBUG=0 SECRET_KEY=build-only-dummy-key-not-used-at-runtime-0123456789abcdef \
        python manage.py collectstatic --noinput \
    && mkdir -p /app/var/attachments \
    && chown -R srm:srm /app/var

USER srm

EXPOSE 8000

# Workers: gunicorn reads WEB_CONCURRENCY from the environment.
CMD ["gunicorn", "srm.wsgi:application", "--bind", "0.0.0.0:8000"]
