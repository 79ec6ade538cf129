"""The health check: `GET /healthz` tells a load balancer whether this process can serve."""

from http import HTTPStatus

from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from redis.exceptions import RedisError


def database_is_up() -> bool:
    """True when the default database answers a trivial query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return False
    return True


def cache_is_up() -> bool:
    """True when the shared cache (Redis in production) stores and returns a value."""
    try:
        cache.set("healthz-probe", "ok", timeout=10)
        return cache.get("healthz-probe") == "ok"
    except (RedisError, OSError):
        return False


@never_cache
@require_GET
@transaction.non_atomic_requests  # an atomic block would need the very database being checked
def healthz_view(request: HttpRequest) -> JsonResponse:
    """200 when every dependency answers; 503 naming the one that does not."""
    checks = {
        "database": "ok" if database_is_up() else "down",
        "cache": "ok" if cache_is_up() else "down",
    }
    healthy = all(state == "ok" for state in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=HTTPStatus.OK if healthy else HTTPStatus.SERVICE_UNAVAILABLE,
    )
