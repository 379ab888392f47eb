"""Real servers for the worker tests and the fan-out benchmark: Redis, Celery workers, the gateway.

Nothing here is imported by the product. The tests (``tests/notifications``,
``tests/demand``) and ``bench/demand_fanout.py`` start the same processes the
same way: a throwaway ``redis-server`` on a free port, Celery worker processes
on the database under test, and this process publishing tasks to that broker.
"""

import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CELERY = Path(sys.executable).with_name("celery")


class TimedOut(AssertionError):
    """A condition a test or benchmark waited for did not come true in time."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, timeout: float, what: str, on_timeout=lambda: "", every: float = 0.2):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimedOut(f"timed out after {timeout}s waiting for {what}\n{on_timeout()}")
        time.sleep(every)


def database_url() -> str:
    """The current database as a worker process must reach it (committed rows only)."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@contextmanager
def redis_server(directory: Path):
    """A redis-server on a free loopback port, without persistence; yields its URL."""
    import redis

    if not shutil.which("redis-server"):
        raise RuntimeError("redis-server is missing: apt-get install redis-server")
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory)]
        + ["--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        wait_until(lambda: _pings(client), timeout=10, what="redis-server")
        yield url
    finally:
        process.kill()
        process.wait(timeout=10)


def _pings(client) -> bool:
    import redis

    try:
        return client.ping()
    except redis.ConnectionError:
        return False


class Workers:
    """Celery worker processes (``-P solo``: one task at a time each); all killed at the end."""

    def __init__(self, env: dict, directory: Path, loglevel: str = "info"):
        self.env = env
        self.directory = directory
        self.loglevel = loglevel
        self.processes: list[subprocess.Popen] = []

    def start(self, name: str) -> subprocess.Popen:
        log = open(self.directory / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [str(CELERY), "-A", "voltdesk", "worker", "-P", "solo", "-l", self.loglevel]
            + ["-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
        for process in self.processes:
            process.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-3000:] for p in self.directory.glob("*.log")
        )


@contextmanager
def celery_sends_to(broker_url: str):
    """Make this process publish tasks to the broker instead of running them eagerly."""
    from voltdesk.celery import app as celery_app

    conf = celery_app.conf
    saved = conf.broker_url, conf.task_always_eager
    conf.broker_url, conf.task_always_eager = broker_url, False
    _drop_connection_pools(celery_app)
    try:
        yield
    finally:
        conf.broker_url, conf.task_always_eager = saved
        _drop_connection_pools(celery_app)


def _drop_connection_pools(celery_app):
    from kombu import pools

    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    # kombu also keeps producer pools per connection in a global registry; a pool left
    # there closed would refuse every later test's eager task ("Acquire on closed pool").
    pools.reset()
