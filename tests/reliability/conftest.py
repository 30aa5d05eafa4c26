"""Fixtures the reliability tests share with the publishing tests (one definition each, imported here).

The fake Graph API, the live media server and the worker processes are
defined in tests/publishing/conftest.py and tests/publishing/workers.py;
the report hook lets the `workers` fixture print the workers' logs when a
test fails.
"""

from tests.publishing.conftest import (  # noqa: F401 - fixtures and the report hook
    eager_celery,
    fake_graph,
    fake_graph_server,
    publishing_setup,
    pytest_runtest_makereport,
)
from tests.publishing.workers import broker, ready_to_compose, redis_server, workers  # noqa: F401 - fixtures
