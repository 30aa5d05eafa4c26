"""/healthz: is this web process able to serve, and is the worker alive?"""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from redis.exceptions import RedisError

from config.celery import HEARTBEAT_KEY

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """JSON on the database, Redis and the worker heartbeat.

    503 when the database or Redis fails: this web process cannot serve. A
    stale worker heartbeat is reported but keeps 200, so that a load balancer
    does not take healthy web processes out because the worker is down.
    """
    checks: dict[str, dict[str, object]] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"ok": True}
    except DatabaseError as exc:
        logger.warning("healthz: database check failed: %s", exc)
        checks["database"] = {"ok": False, "error": exc.__class__.__name__}

    beat: float | None = None
    try:
        beat = cache.get(HEARTBEAT_KEY)
        checks["redis"] = {"ok": True}
    except (RedisError, OSError) as exc:
        logger.warning("healthz: redis check failed: %s", exc)
        checks["redis"] = {"ok": False, "error": exc.__class__.__name__}

    age = None if beat is None else round(time.time() - beat, 1)
    checks["worker"] = {
        "ok": age is not None and age <= settings.WORKER_HEARTBEAT_MAX_AGE,
        "heartbeat_age_seconds": age,
    }
    serving = checks["database"]["ok"] and checks["redis"]["ok"]
    status = "ok" if serving and checks["worker"]["ok"] else ("degraded" if serving else "down")
    return JsonResponse({"status": status, "checks": checks}, status=200 if serving else 503)
