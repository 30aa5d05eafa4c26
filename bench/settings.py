"""Production settings plus the bench's URLs: the trivial view (the ceiling) and the empty layout (the floor)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
