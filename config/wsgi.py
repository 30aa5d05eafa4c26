"""The WSGI application gunicorn serves (Dockerfile, docker-compose.yml, bench/load.py).

Once the app is loaded (settings, models, and every view, imported through the
URLconf now rather than by the first request), what the process holds is
frozen out of the cyclic garbage collector's way (gc.freeze): it lives as long
as the process, yet a full collection walked all of it, some 140,000 objects,
in the middle of whichever request happened to trigger one (160 ms on the
bench machine, against 4 ms for what the pages add after startup). Objects
made later are collected as before.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 - imports every view now, before the freeze
gc.freeze()
