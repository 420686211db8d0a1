FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY sync ./sync
COPY connectors ./connectors
COPY storage ./storage
COPY simulators ./simulators
RUN pip install . && useradd --create-home --uid 10001 pergai

USER pergai
WORKDIR /home/pergai
EXPOSE 8080

# The daemon serves /healthz on [server] port, 8080 unless the config changes it;
# the check fails while the mapping database is unreachable (503).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]

ENTRYPOINT ["pergai-sync"]
CMD ["run"]
