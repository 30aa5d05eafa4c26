"""Production settings plus one extra URL: the trivial view that gives the ceiling."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
