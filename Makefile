# Two commands do everything: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
# uv from PATH when it works, else a private copy installed from PyPI into .tools/.
UV := $(shell uv --version >/dev/null 2>&1 && echo uv || echo .tools/bin/uv)
CHROMIUM := /usr/bin/chromium

.PHONY: run test sync lint audit soak browser media-tools messages bench wrk key manage screenshots clean

run: sync media-tools
	$(UV) run --no-sync python -m config.embedded run

# The suite runs in TEST_PROCESSES processes (pytest-xdist; 0 runs it in this one): each has its own test
# database and Redis key prefix, and much of a worker or browser test is waiting, which the other fills.
TEST_PROCESSES ?= 2
test: sync browser media-tools lint audit
	$(UV) run --no-sync python -m config.embedded exec -- pytest -n $(TEST_PROCESSES) --dist worksteal $(PYTEST_ARGS)

# Settings for commands that import them but connect to nothing (mypy's Django plugin, makemessages).
SETTINGS_ENV := SECRET_KEY=mypy ENCRYPTION_KEYS=bXlweS1vbmx5LW15cHktb25seS1teXB5LW9ubHktMDA= DEBUG=true \
	DATABASE_URL=postgresql://localhost/mypy REDIS_URL=redis://localhost/0

lint: sync
	$(UV) run --no-sync ruff check .
	$(UV) run --no-sync ruff format --check .
	$(UV) run --no-sync lint-imports --no-cache
	$(SETTINGS_ENV) $(UV) run --no-sync mypy config libraries production publishing

# Every locked package (uv.lock, dev tools included) against known vulnerabilities with pip-audit.
# A known vulnerability fails; PyPI unreachable is reported and fails only with AUDIT_STRICT=true
# (see RELIABILITY.md). The pins are exact, so pip-audit needs no resolver (--no-deps --disable-pip).
audit: sync
	@mkdir -p var
	@$(UV) export --frozen --quiet --all-groups --no-emit-project --format requirements-txt \
	  --output-file var/audit-requirements.txt
	$(UV) run --no-sync python -m tests.reliability.audit var/audit-requirements.txt

# Ten minutes of load on the main pages while a worker publishes (tests/reliability/soak.py; figures
# in RELIABILITY.md). Too long for make test. SOAK_ARGS="--duration 120" for a shorter run.
soak: sync wrk
	$(UV) run --no-sync python -m config.embedded exec -- python -m tests.reliability.soak $(SOAK_ARGS)

sync: $(if $(filter uv,$(UV)),,.tools/bin/uv)
	$(UV) sync --locked --quiet

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

# Browser tests drive Debian's Chromium; install it when we can (root or
# password-less sudo). Without it they are skipped locally and fail under CI=true.
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "Could not install chromium with apt-get."; \
	  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then \
	    (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "Could not install chromium with apt-get."; \
	  else echo "Chromium is missing ($(CHROMIUM)); install it with: apt-get install chromium"; fi; \
	fi

# Reel renditions (production/processing/transcode.py) are made by Debian's ffmpeg (zscale for HDR,
# libass for subtitles) and the subtitles drawn in Noto Sans (fonts-noto-core); install them as the
# browser is installed. Without ffmpeg the video tests are skipped locally and fail under CI=true.
media-tools:
	@if ! command -v ffmpeg >/dev/null || [ ! -f /usr/share/fonts/truetype/noto/NotoSans-Regular.ttf ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg fonts-noto-core >/dev/null) \
	      || echo "Could not install ffmpeg and fonts-noto-core with apt-get."; \
	  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then \
	    (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg fonts-noto-core >/dev/null) \
	      || echo "Could not install ffmpeg and fonts-noto-core with apt-get."; \
	  else echo "ffmpeg or Noto Sans is missing; install them with: apt-get install ffmpeg fonts-noto-core"; fi; \
	fi

# Regenerate the translation catalogues after changing user-facing strings.
messages: sync
	$(SETTINGS_ENV) $(UV) run --no-sync python manage.py makemessages -l nb -l en -l da --no-obsolete --no-location \
	  --ignore '.venv/*' --ignore '.tools/*' --ignore 'var/*' --ignore 'tests/*' --ignore 'bench/*'
	$(SETTINGS_ENV) $(UV) run --no-sync python manage.py compilemessages --ignore '.venv/*' --ignore '.tools/*'

# Benchmarks: every measure, then BENCHMARKS.md and bench/results/latest.json (see BENCHMARKS.md).
# BENCH_ARGS="--duration 30" for steadier figures; "--only pages,search --scale 1" for a part.
bench: sync wrk media-tools
	$(UV) run --no-sync python -m config.embedded exec -- python -m bench $(BENCH_ARGS)

# The pages are loaded with wrk (a C program, so the load does not compete for the GIL); install it
# as the browser is installed. Without it bench/load.py falls back to a slower Python generator.
wrk:
	@if ! command -v wrk >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) \
	      || echo "Could not install wrk with apt-get."; \
	  else echo "wrk is missing; install it with: apt-get install wrk (the bench falls back to Python)"; fi; \
	fi

# A management command on the data of `make run`, e.g. make manage ARGS=createsuperuser
manage: sync
	$(UV) run --no-sync python -m config.embedded manage $(ARGS)

# The README's screenshots (docs/screenshots/) from the demo data on a throwaway database, in Chromium
# (demo/management/commands/screenshots.py).
screenshots: sync browser media-tools
	$(UV) run --no-sync python -m config.embedded manage screenshots

# A new Fernet key for ENCRYPTION_KEYS.
key: sync
	@$(UV) run --no-sync python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"

clean:
	rm -rf var/ .pytest_cache .ruff_cache .mypy_cache
