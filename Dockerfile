# craftsman-intake in a container: Debian 12 (Python 3.11, as CI), the Debian packages the service
# needs, the Python packages pinned in requirements.lock, `intake run` as an unprivileged user.
#   docker build -t craftsman-intake .
#   docker compose up -d        (compose.yaml: the service and PostgreSQL)
# The runtime package list is ./dev's APT_RUNTIME, word for word (tests/test_deploy.py checks).
FROM debian:12-slim

ARG APT_RUNTIME="libarchive-tools ffmpeg libreoffice-writer-nogui libgl1 libglib2.0-0 tesseract-ocr tesseract-ocr-chi-sim postgresql-client"
ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LANG=C.UTF-8 \
    INTAKE_CONFIG=/etc/craftsman-intake/intake.toml

RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates tzdata $APT_RUNTIME \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system intake \
    && useradd --system --gid intake --home-dir /var/lib/craftsman-intake --shell /usr/sbin/nologin intake \
    && install -d -o intake -g intake -m 0700 /var/lib/craftsman-intake

WORKDIR /opt/craftsman-intake
# the lock first: the layer with every dependency is rebuilt only when the lock changes
COPY pyproject.toml requirements.lock README.md ./
COPY scheduler.py ./
COPY core ./core
COPY campaigns ./campaigns
COPY ingest ./ingest
COPY parsers ./parsers
COPY nominees ./nominees
COPY validators ./validators
COPY storage ./storage
COPY replies ./replies
COPY service ./service
COPY staff ./staff
COPY forward ./forward
COPY web ./web
COPY cli ./cli
RUN python3 -m venv .venv \
    && .venv/bin/pip install --no-cache-dir --disable-pip-version-check -c requirements.lock . \
    && .venv/bin/intake campaigns

USER intake
WORKDIR /var/lib/craftsman-intake
VOLUME ["/var/lib/craftsman-intake"]
# a stop finishes the message in hand: compose gives it stop_grace_period
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5m --timeout=60s --start-period=2m CMD ["/opt/craftsman-intake/.venv/bin/intake", "status"]
ENTRYPOINT ["/opt/craftsman-intake/.venv/bin/intake"]
CMD ["run"]
