# The app as a container image, for offices that run containers (compose.yaml). `make serve` and
# `make test` do not need it. Build: docker build -t corridors .   Run: see compose.yaml.
FROM python:3.11-slim-bookworm

# a CJK font for Chinese text in exported maps (the same Debian package `make serve` installs)
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-wqy-microhei \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.lock ./
RUN python -m pip install --no-cache-dir --disable-pip-version-check -r requirements.lock
COPY . .
RUN useradd --system --home-dir /app corridors && mkdir -p instance && chown corridors instance
USER corridors

ENV HOST=0.0.0.0 \
    PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; \
sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4).status != 200)"
# builds the store first when the database has none, then runs gunicorn (webmap/gunicorn_conf.py)
CMD ["python", "run.py", "serve"]
