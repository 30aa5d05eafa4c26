"""Environment for the test run, set before Django reads config.settings.

Loaded as a pytest plugin (`-p tests.environment` in pyproject.toml), because
pytest-django imports the settings before any conftest.py. DATABASE_URL and
REDIS_URL come from `make test` (python -m config.embedded exec); the tests
use Redis database 9 so that they never flush a developer's data in 0.
"""

import os
import re
from base64 import urlsafe_b64encode

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-" + "x" * 20)
os.environ.setdefault("ENCRYPTION_KEYS", urlsafe_b64encode(b"t" * 32).decode())
os.environ.setdefault("PUBLIC_BASE_URL", "http://testserver")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SECURE_COOKIES", "false")
os.environ.setdefault("EMAIL_BACKEND", "console")
os.environ.setdefault("CACHE_KEY_PREFIX", "innspill-test")
# The live server thread keeps no connection open past a request, so the test
# database can be dropped at the end.
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "0")
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in the test thread

if "REDIS_URL" in os.environ:
    TEST_REDIS_DB = os.environ.get("TEST_REDIS_DB", "9")
    os.environ["REDIS_URL"] = re.sub(r"(/\d+)?$", f"/{TEST_REDIS_DB}", os.environ["REDIS_URL"].split("?")[0], count=1)
