"""gunicorn settings: `gunicorn -c config/gunicorn.py config.wsgi`.

The access log leaves out query strings: an OAuth callback's carries the authorization code.
"""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# One worker process per core, four threads each. gunicorn's "2 x cores + 1" is for its sync
# workers, which wait on I/O one request at a time; gthread workers wait in threads, and more
# processes than cores only take turns on the CPU. Measured with bench/shapes.py on 2 cores (two
# servers, four concurrent streams): 2 x 4 kept the worst p99 at 118-125 ms with no failed
# request; 5 x 4 served no more, its worst p99 reached 175-395 ms, one stream fell to 63 req/s
# and requests failed (README, "Sizing the workers"). WEB_CONCURRENCY and GUNICORN_THREADS
# override both.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then, so a slow leak never grows without bound. Not too often: a worker
# starting anew costs a second of CPU and stalls the connections it held (at 10,000, under
# bench/load.py's load, a restart every few seconds somewhere, and p99 latency near a second).
max_requests = 100_000
max_requests_jitter = 10_000
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
# The load balancers (TRUSTED_PROXIES, the list Django reads too: addresses or CIDR ranges) are
# the only peers whose X-Forwarded-Proto makes a request HTTPS (wsgi.url_scheme, which Django's
# request.is_secure() reads); any other peer's is ignored. Empty: none.
forwarded_allow_ips = os.environ.get("TRUSTED_PROXIES", "")
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}


def post_worker_init(worker) -> None:
    """Once a worker has loaded the application, move everything loading made (some 100,000
    objects: Django, allauth, DRF, the URL map) out of the garbage collector's sight with
    gc.freeze(). They live as long as the worker; without this, every full collection walks them
    all again, a pause of about 120 ms on the 2-core machine every few thousand requests, which
    is what bench/load.py's p99 latencies were made of."""
    gc.freeze()
