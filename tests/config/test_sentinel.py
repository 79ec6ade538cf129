"""Redis through Sentinel, configured by the environment alone (REDIS_SENTINELS): production's
shared cache asks a real Sentinel for the primary and sends every command there, reads included
(a replica may not have a revocation yet)."""

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from tests.config.test_settings import run_manage
from tests.servers import free_port, redis_server_binary, running_redis, wait_for_port

SERVICE = "signin-primary"


@contextmanager
def running_sentinel(primary_port: int, folder: Path) -> Iterator[int]:
    port = free_port()
    config = folder / "sentinel.conf"
    config.write_text(
        f"port {port}\nbind 127.0.0.1\nsentinel monitor {SERVICE} 127.0.0.1 {primary_port} 1\n"
    )
    process = subprocess.Popen(  # noqa: S603 -- Debian's redis-server, in Sentinel mode
        [redis_server_binary(), str(config), "--sentinel"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process, "redis-sentinel")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_shared_cache_finds_its_primary_through_sentinel(tmp_path):
    if redis_server_binary() is None:
        pytest.skip("no redis-server here: apt-get install redis-server")
    primary_port = free_port()
    with (
        running_redis(primary_port) as primary_url,
        running_sentinel(primary_port, tmp_path) as sentinel_port,
    ):
        result = run_manage(
            "shell",
            "--no-imports",
            "-c",
            "from django.core.cache import cache; cache.set('through', 'sentinel'); "
            "print(cache.get('through'))",
            env={
                "DJANGO_SECRET_KEY": "x7!kq2-production-like-secret-for-a-sentinel-test-0123456789",
                "DJANGO_ALLOWED_HOSTS": "signin.example.com",
                "DATABASE_URL": "postgres://signin:unused@127.0.0.1:5432/signin",
                "JWT_SIGNING_KEYS_DIR": str(tmp_path / "jwt-keys"),
                "REDIS_URL": f"redis://{SERVICE}/0",
                "REDIS_SENTINELS": f"127.0.0.1:{sentinel_port}",
            },
        )
        stored = redis.Redis.from_url(primary_url).keys("*through")

    assert result.stdout.strip() == "sentinel", result.stderr
    assert stored == [b"signin-lab:1:through"]
