"""In-process benchmark (not a test): where a request's microseconds go, without the network.

Run from the project folder: `.venv/bin/python -m bench.inprocess [--requests 3000]
[--batches 5] [--only probe-bearer,...]`. Needs what bench/load.py needs but wrk.

The same targets, servers and credentials as bench.load (bench/load.py), but each server's WSGI
application is called directly, in a process of its own, one request at a time: no socket, no
gunicorn, no other load. Per target it prints the fastest batch's time per request (µs), the
Python function calls per request (cProfile) and the ratio to its peer; then the functions whose
own time differs most between a target and its peer (cProfile's own times, inflated by its
overhead), and each layer's own time beside the peer's: the handler, every middleware, the view
(timed around each layer's get_response, the least of LAYER_BATCHES batches of 1,000).
"""

import argparse
import json
import subprocess
import sys

from bench.load import (
    ROOT,
    TARGETS_BY_NAME,
    Target,
    prepared,
    request_headers,
    selected_targets,
    target_servers,
)

# Run with a server's environment: times and profiles each target it is given, prints JSON.
MEASURE = """
import collections, cProfile, importlib, io, json, pstats, sys, time
LAYER_BATCHES = 15
import django
django.setup()
module, requests, batches, targets = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
application = importlib.import_module(module).application

def environ(path, headers):
    return {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        # What gunicorn makes of X-Forwarded-Proto from a trusted proxy (config/gunicorn.py).
        "wsgi.url_scheme": "https" if headers.get("X-Forwarded-Proto") == "https" else "http",
        "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr, "wsgi.multithread": True,
        "wsgi.multiprocess": True, "wsgi.run_once": False, "HTTP_HOST": "127.0.0.1",
        **{"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()},
    }

def call(path, headers):
    answer = []
    body = application(environ(path, headers), lambda status, h, e=None: answer.append(status))
    b"".join(body)
    body.close()
    if not answer[0].startswith("200"):
        raise SystemExit(f"{path}: {answer[0]}")

# The middleware chain with every layer's get_response timed (a layer's own time is its time
# minus the next one's): the timed chain, the layers' names, the totals, what undoes it.
def layered(chain):
    totals = collections.Counter()

    def timed(call, label):
        def wrapper(request):
            started = time.perf_counter_ns()
            try:
                return call(request)
            finally:
                totals[label] += time.perf_counter_ns() - started
        return wrapper

    names, undo, inner = [], [], chain
    while (layer := getattr(inner, "__wrapped__", None)) is not None:
        if hasattr(layer, "get_response"):  # a middleware class
            label, following = type(layer).__name__, layer.get_response
            layer.get_response = timed(following, label)
            undo.append(lambda layer=layer, following=following: setattr(
                layer, "get_response", following))
        else:  # a middleware function (allauth's): its get_response is a closure cell
            cells = dict(zip(layer.__code__.co_freevars, layer.__closure__ or ()))
            if "get_response" not in cells:
                break
            label = layer.__module__.rsplit(".", 1)[0] + "." + layer.__qualname__.split(".")[0]
            cell = cells["get_response"]
            following = cell.cell_contents
            cell.cell_contents = timed(following, label)
            undo.append(lambda cell=cell, following=following: setattr(
                cell, "cell_contents", following))
        names.append(label)
        inner = following
    return timed(chain, "chain"), names, totals, undo

# Each layer's own time per request (µs), the least over LAYER_BATCHES batches: the handler
# (everything outside the middleware), each middleware, and the view (URL resolving, the view,
# its response).
def layers(path, headers):
    plain = application._middleware_chain
    application._middleware_chain, names, totals, undo = layered(plain)
    least = collections.defaultdict(lambda: float("inf"))
    try:
        for _ in range(LAYER_BATCHES):
            totals.clear()
            started = time.perf_counter_ns()
            for _ in range(1000):
                call(path, headers)
            own = {"handler": (time.perf_counter_ns() - started - totals["chain"]) / 1e6}
            outer = totals["chain"]
            for label in names:
                own[label], outer = (outer - totals[label]) / 1e6, totals[label]
            own["view"] = outer / 1e6
            for label, us in own.items():
                least[label] = min(least[label], us)
    finally:
        application._middleware_chain = plain
        for restore in undo:
            restore()
    return {label: least[label] for label in ["handler", *names, "view"]}

results = {}
for name, (path, headers) in json.loads(targets).items():
    for _ in range(500):
        call(path, headers)
    best = float("inf")
    for _ in range(batches):
        started = time.perf_counter()
        for _ in range(requests):
            call(path, headers)
        best = min(best, (time.perf_counter() - started) / requests)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(1000):
        call(path, headers)
    profile.disable()
    stats = pstats.Stats(profile).stats
    own = {f"{f[0].rsplit('/', 1)[-1]}:{f[2]}": v[2] / 1000 * 1e6 for f, v in stats.items()}
    results[name] = {
        "us": best * 1e6,
        "calls": sum(v[1] for v in stats.values()) / 1000,
        "own_us": own,
        "layers": layers(path, headers),
    }
print(json.dumps(results))
"""


def measure(
    *, module: str, env: dict[str, str], runs: dict[str, tuple], requests: int, batches: int
) -> dict:
    finished = subprocess.run(  # noqa: S603 -- this interpreter, our own code
        [sys.executable, "-c", MEASURE, module, str(requests), str(batches), json.dumps(runs)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if finished.returncode != 0:
        sys.exit(f"measuring {module} failed:\n{finished.stderr[-3000:]}")
    return json.loads(finished.stdout.strip().splitlines()[-1])


def report(targets: list[Target], results: dict[str, dict]) -> None:
    print(f"{'target':20} {'µs/request':>11} {'calls':>7}  {'peer':20} {'x peer':>7}")
    for target in targets:
        mine = results[target.name]
        line = f"{target.name:20} {mine['us']:>11.0f} {mine['calls']:>7.0f}"
        if target.peer:
            peer = results[target.peer]
            line += f"  {target.peer:20} {peer['us'] / mine['us']:>7.2f}"
        print(line)
    for target in targets:
        if not target.peer:
            continue
        mine, peer = results[target.name]["own_us"], results[target.peer]["own_us"]
        differences = sorted(
            ((mine.get(f, 0.0) - peer.get(f, 0.0), f) for f in mine.keys() | peer.keys()),
            reverse=True,
        )
        print(f"\n{target.name} against {target.peer}: own time per request (µs, cProfile)")
        for difference, function in differences[:12]:
            print(f"  {difference:+7.1f}  {function}")
        layers_report(target, results)


def layers_report(target: Target, results: dict[str, dict]) -> None:
    """Each layer's own time (µs per request, the least of its batches), side by side with the
    peer's: the handler, each middleware in order, the view."""
    mine, peer = results[target.name]["layers"], results[target.peer]["layers"]
    print(f"\n{target.name} against {target.peer}: each layer's own time (µs, least of batches)")
    print(f"  {'layer':36} {target.name:>20} {target.peer:>20} {'difference':>11}")
    for layer in [*mine, *(layer for layer in peer if layer not in mine)]:
        ours, theirs = mine.get(layer), peer.get(layer)
        cells = [
            f"{value:>20.1f}" if value is not None else f"{'-':>20}" for value in (ours, theirs)
        ]
        difference = (ours or 0.0) - (theirs or 0.0)
        print(f"  {layer:36} {cells[0]} {cells[1]} {difference:>+11.1f}")
    print(
        f"  {'sum':36} {sum(mine.values()):>20.1f} {sum(peer.values()):>20.1f}"
        f" {sum(mine.values()) - sum(peer.values()):>+11.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="per batch (3000)")
    parser.add_argument("--batches", type=int, default=5, help="the fastest counts (5)")
    parser.add_argument("--only", help=f"targets, comma-separated: {', '.join(TARGETS_BY_NAME)}")
    parser.add_argument("--postgres", default="postgres://signin:signin@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    targets = selected_targets(args.only)
    servers = target_servers(targets)
    results: dict[str, dict] = {}
    with prepared(servers=servers, postgres=args.postgres, workers=1, threads=1) as (
        envs,
        credentials,
    ):
        for server in servers:
            runs = {
                target.name: (
                    target.path,
                    request_headers(target=target, credentials=credentials[server]),
                )
                for target in targets
                if target.server is server
            }
            results |= measure(
                module=server.app,
                env=envs[server],
                runs=runs,
                requests=args.requests,
                batches=args.batches,
            )
    report(targets, results)


if __name__ == "__main__":
    main()
