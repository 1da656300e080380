"""Benchmark: seed PostgreSQL with synthetic clients, serve with gunicorn in production mode, load it.

Steps: (1) create the database ``iiz_bench`` (or reuse it when it already holds exactly --clients
clients), migrate and seed it with the demo generator (clients, then IIZ cases for about 3 % of them);
(2) import a CSV of --import-rows registrations on a copy of it, timing check and apply; (3) start
gunicorn with production settings and sign in the bench personas with a second factor; (4) load each
target of ``bench/targets.py`` for a fixed time with wrk (16 connections; locust with --generator locust),
count its SQL queries, and relate its throughput to the trivial view's (``/healthz``, the ceiling of the
stack) measured in the same run; (5) write ``bench/results/``.
Everything runs on 127.0.0.1 and gunicorn is stopped at the end, also on errors. See bench/README.md.
"""

from __future__ import annotations

import argparse
import base64
import csv
import datetime as dt
import hashlib
import http.client
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from targets import TARGETS, Target
from wrk_load import ensure_wrk, run_wrk

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
BIN = Path(sys.executable).parent
RESULTS = BENCH_DIR / "results"
HOST = "127.0.0.1"


def log(message: str) -> None:
    print(f"[bench {dt.datetime.now().astimezone():%H:%M:%S}] {message}", flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=100_000, help="clients in the bench database")
    parser.add_argument("--generator", choices=("wrk", "locust"), default="wrk",
                        help="load generator: wrk (lean, default) or locust")
    parser.add_argument("--connections", type=int, default=16, help="wrk: open connections per target")
    parser.add_argument("--threads", type=int, default=1, help="wrk: threads (each drives a share of the connections)")
    parser.add_argument("--users", type=int, default=10, help="locust: concurrent simulated users per target")
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per target")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--database", default="iiz_bench")
    parser.add_argument("--postgres", default=f"postgres://postgres@{HOST}:5432",
                        help="PostgreSQL server (user and host, no database)")
    parser.add_argument("--redis", default=f"redis://{HOST}:6379/0")
    parser.add_argument("--fresh", action="store_true", help="drop and seed the database even if it matches")
    parser.add_argument("--only", default="", help="comma-separated target names (default: all)")
    parser.add_argument("--import-rows", type=int, default=100_000,
                        help="rows of the import throughput step (0: skip it)")
    args = parser.parse_args()
    for url in (args.postgres, args.redis):
        if not re.match(rf"^\w+://([^@/]*@)?({HOST}|localhost)(:\d+)?(/|$)", url):
            parser.error(f"the benchmark runs against {HOST} only, not {url}")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.database):
        parser.error("--database must be a plain lower-case name")
    return args


# Database --------------------------------------------------------------------------------------------


def client_count(conninfo: str) -> int | None:
    """Clients in the bench database, or None when it does not exist or is not migrated."""
    try:
        with psycopg.connect(conninfo, connect_timeout=5) as conn:
            row = conn.execute("SELECT to_regclass('clients_client') IS NOT NULL").fetchone()
            if not row or not row[0]:
                return None
            count = conn.execute("SELECT count(*) FROM clients_client").fetchone()
            return int(count[0]) if count else None
    except psycopg.OperationalError:
        return None


def recreate_database(server: str, name: str) -> None:
    with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def manage(*arguments: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, str(REPO / "manage.py"), *arguments], env=env, cwd=REPO, check=True)


def prepare_database(args: argparse.Namespace, database_url: str, env: dict[str, str]) -> dict[str, Any]:
    existing = None if args.fresh else client_count(database_url)
    info: dict[str, Any] = {"reused": existing == args.clients}
    if existing == args.clients:
        log(f"Reusing {args.database}: it holds {existing:,} clients.")
        manage("migrate", "--noinput", "-v0", env=env)
        # Adds nothing when the cases are there already.
        manage("demo_generate_cases", "--seed", str(args.seed), env=env)
        return info
    log(f"Creating {args.database} (found {existing if existing is not None else 'no'} clients).")
    recreate_database(args.postgres, args.database)
    manage("migrate", "--noinput", "-v0", env=env)
    log(f"Seeding {args.clients:,} clients.")
    started = time.monotonic()
    command = [sys.executable, str(REPO / "manage.py"), "demo_generate", "--clients", str(args.clients),
               "--seed", str(args.seed), "--batch-size", str(args.batch_size)]
    process = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    peak = None
    for line in process.stdout:
        print("    " + line.rstrip(), flush=True)
        match = re.search(r"peak memory (\d+) MB", line)
        if match:
            peak = int(match.group(1))
    if process.wait() != 0:
        raise RuntimeError("seeding failed")
    info.update(seed_seconds=round(time.monotonic() - started, 1), seed_peak_rss_mb=peak)
    log("Seeding IIZ cases.")
    started = time.monotonic()
    manage("demo_generate_cases", "--seed", str(args.seed), env=env)
    info.update(cases_seconds=round(time.monotonic() - started, 1))
    # Fresh statistics, as autovacuum would have them on a database in use, before anything is measured.
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute("VACUUM ANALYZE")
    return info


def import_throughput(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    """The import of a CSV of new registrations, on a copy of the bench database (which stays as it was)."""
    copy = f"{args.database}_import"
    with psycopg.connect(f"{args.postgres}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(copy)))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(copy),
                                                                      sql.Identifier(args.database)))
    try:
        output = subprocess.run(
            [sys.executable, str(BENCH_DIR / "import_bench.py"), "--rows", str(args.import_rows)],
            env={**env, "DATABASE_URL": f"{args.postgres}/{copy}"}, cwd=REPO, check=True, stdout=subprocess.PIPE,
            text=True,
        ).stdout
    finally:
        with psycopg.connect(f"{args.postgres}/postgres", autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(copy)))
    result: dict[str, Any] = json.loads(output)
    return result


# Server ----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("GET", path, headers={"X-Forwarded-Proto": "https", **(headers or {})})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@contextmanager
def gunicorn(env: dict[str, str], port: int, workers: int, log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    command = [str(BIN / "gunicorn"), "iiz.wsgi", "-w", str(workers), "--bind", f"{HOST}:{port}",
               "--graceful-timeout", "5"]
    # The repository's gunicorn.conf.py applies, as in production; its access log goes to the log file.
    log_file = log_path.open("ab")
    process = subprocess.Popen(command, env=env, cwd=REPO, start_new_session=True, stdout=log_file,
                               stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}; see {log_path}")
            try:
                status, _, body = get(port, "/readyz")
                if status == 200:
                    break
                detail = body[:200].decode(errors="replace")
            except OSError as error:
                detail = str(error)
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn not ready after 60 s: {detail}")
            time.sleep(0.3)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log_file.close()
        log("gunicorn stopped.")


# Load ------------------------------------------------------------------------------------------------


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def verify_targets(port: int, targets: list[Target], data: dict[str, Any]) -> None:
    """Each target answers as expected once before it is measured (a sign-in redirect fails here)."""
    rng = random.Random(0)
    for target in targets:
        headers = {**target.headers, **target.credentials(data, 0)}
        for _ in range(5):  # also warms the workers' caches and connections
            path = target.render(data["fixtures"], rng)
            status, response_headers, _ = get(port, path, headers)
            if status != target.expect_status:
                raise RuntimeError(f"{target.name}: GET {path} answered {status} "
                                   f"{response_headers.get('Location', '')}, expected {target.expect_status}")


def run_locust(target: Target, args: argparse.Namespace, port: int, fixtures_path: Path,
               work: Path) -> dict[str, Any]:
    prefix = work / slug(target.name)
    env = {**os.environ, "BENCH_TARGET": target.name, "BENCH_FIXTURES": str(fixtures_path)}
    command = [str(BIN / "locust"), "-f", str(BENCH_DIR / "locustfile.py"), "--headless", "--only-summary",
               "-u", str(args.users), "-r", str(args.users), "-t", f"{args.duration}s",
               "--host", f"http://{HOST}:{port}", "--csv", str(prefix), "--stop-timeout", "5",
               "--loglevel", "WARNING", "--exit-code-on-error", "0"]
    with open(f"{prefix}.log", "wb") as output:
        finished = subprocess.run(command, env=env, cwd=BENCH_DIR, stdout=output, stderr=subprocess.STDOUT)
    if finished.returncode != 0:
        raise RuntimeError(f"locust failed for {target.name}:\n" + Path(f"{prefix}.log").read_text()[-3000:])
    with open(f"{prefix}_stats.csv", encoding="utf-8", newline="") as handle:
        row = next((r for r in csv.DictReader(handle) if r["Name"] == target.name), None)
    if row is None:
        # A target that completed no request in its window has no row of its own (a server far too slow for
        # the duration, or one that never answered): report it as such instead of failing the whole run.
        return {"name": target.name, "method": target.method, "path": target.path, "persona": target.persona,
                "generator": "locust", "requests": 0, "errors": 0, "p50_ms": None, "p95_ms": None,
                "avg_ms": None, "max_ms": None, "rps": 0.0,
                "failure_samples": [f"no request completed within {args.duration} s"]}
    failures: list[str] = []
    failures_path = Path(f"{prefix}_failures.csv")
    if failures_path.exists():
        with failures_path.open(encoding="utf-8", newline="") as handle:
            failures = [f"{r['Occurrences']}x {r['Error']}" for r in csv.DictReader(handle)][:5]
    requests = int(row["Request Count"])
    return {
        "name": target.name,
        "method": target.method,
        "path": target.path,
        "persona": target.persona,
        "generator": "locust",
        "requests": requests,
        "errors": int(row["Failure Count"]),
        "p50_ms": float(row["Median Response Time"]),
        "p95_ms": float(row["95%"]),
        "avg_ms": round(float(row["Average Response Time"]), 1),
        "max_ms": round(float(row["Max Response Time"]), 1),
        "rps": round(float(row["Requests/s"]), 1),
        "failure_samples": failures,
    }


# Report ----------------------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def markdown(result: dict[str, Any]) -> str:
    load = (f"wrk, {result['connections']} connections" if result["generator"] == "wrk"
            else f"locust, {result['users']} users")
    lines = [
        f"# iiz benchmark {result['started_at']}",
        "",
        f"{result['clients']:,} clients (bench case worker sees {result['visible_clients']:,}), "
        f"{result['cases']:,} IIZ cases, {result['audit_rows']:,} audit rows; "
        f"{load} x {result['duration_s']} s per target, gunicorn {result['workers']} workers, "
        f"{result['cpu_count']} CPUs (load {result['load_average']['before']} before, "
        f"{result['load_average']['after']} after), commit {result['commit'] or 'unknown'}.",
        "",
        "| target | persona | path | requests | errors | p50 ms | p95 ms | req/s | ratio to ceiling | queries |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for t in result["targets"]:
        ratio = "–" if t["ratio_to_ceiling"] is None else f"{t['ratio_to_ceiling']:.3f}"
        queries = "–" if t["queries"] is None else str(t["queries"])
        lines.append(f"| {t['name']} | {t['persona'] or '-'} | `{t['path']}` | {t['requests']:,} | {t['errors']:,} | "
                     f"{_ms(t['p50_ms'])} | {_ms(t['p95_ms'])} | {t['rps']:.1f} | {ratio} | {queries} |")
    imported = result.get("import")
    if imported:
        lines += [
            "",
            f"Import of {imported['rows']:,} new registrations (CSV, {imported['file_mb']} MB) as RAV Uster, "
            f"one process, on a copy of the database: {imported['likely_duplicates']:,} likely duplicates flagged.",
            "",
            "| step | seconds | rows/s |",
            "|---|---:|---:|",
            f"| check (preview) | {imported['check_s']} | {imported['check_rows_per_s']:,} |",
            f"| apply (check again and write) | {imported['apply_s']} | {imported['apply_rows_per_s']:,} |",
            "",
            f"Peak RSS of the import process: {imported['peak_rss_mb']} MB "
            f"(after building the file: {imported['build_peak_rss_mb']} MB, after the check: "
            f"{imported['check_peak_rss_mb']} MB).",
        ]
    for t in result["targets"]:
        for sample in t["failure_samples"]:
            lines.append(f"\n{t['name']}: {sample}")
    return "\n".join(lines) + "\n"


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def main() -> int:
    args = parse_args()
    targets = list(TARGETS)
    if args.only:
        wanted = {name.strip() for name in args.only.split(",")}
        targets = [t for t in targets if t.name in wanted]
        if not targets:
            raise SystemExit(f"no target named {sorted(wanted)}")
    started_at = dt.datetime.now().astimezone()
    database_url = f"{args.postgres}/{args.database}"
    work = Path(tempfile.mkdtemp(prefix="iiz-bench-"))
    base_env = {key: value for key, value in os.environ.items()
                if not key.startswith(("DJANGO_", "IIZ_", "DATABASE_", "REDIS_"))}
    # One key for seeding and serving, so the server can read what the seeder encrypted (the cases' notes and
    # minutes). It is derived from the seed, so that a later run can read a reused database; the data are
    # synthetic and the key is for this benchmark only.
    encryption_key = base64.urlsafe_b64encode(hashlib.sha256(f"iiz-bench-{args.seed}".encode()).digest()).decode()
    demo_env = {**base_env, "IIZ_MODE": "demo", "DATABASE_URL": database_url, "IIZ_VAR_DIR": str(work / "var"),
                "IIZ_ENCRYPTION_KEYS": encryption_key}
    production_env = {
        **base_env,
        "IIZ_MODE": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64)[:64],
        "IIZ_ENCRYPTION_KEYS": encryption_key,
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": args.redis,
        "DJANGO_STATIC_ROOT": str(work / "static"),
        "IIZ_VAR_DIR": str(work / "var"),
        "IIZ_LOG_LEVEL": "WARNING",
        # The API's rate limit per token (600/min) would turn the API targets into a measure of the throttle.
        "IIZ_API_RATE": "1000000/min",
    }
    try:
        seeding = prepare_database(args, database_url, demo_env)
        imported = None
        if args.import_rows > 0:
            log(f"Import throughput: {args.import_rows:,} rows on a copy of {args.database}.")
            imported = import_throughput(args, demo_env)
            log(f"Import: check {imported['check_s']} s ({imported['check_rows_per_s']:,} rows/s), "
                f"apply {imported['apply_s']} s ({imported['apply_rows_per_s']:,} rows/s), "
                f"peak RSS {imported['peak_rss_mb']} MB.")
        log("Collecting static files.")
        manage("collectstatic", "--noinput", "-v0", env=production_env)
        output = subprocess.run(
            [sys.executable, str(BENCH_DIR / "prepare_session.py"),
             "--sessions", str(max(args.users, args.connections))],
            env=production_env, cwd=REPO, check=True, capture_output=True, text=True,
        ).stdout
        data = json.loads(output)
        fixtures_path = work / "fixtures.json"
        fixtures_path.write_text(json.dumps(data), encoding="utf-8")
        queries = json.loads(subprocess.run(
            [sys.executable, str(BENCH_DIR / "query_counts.py"), str(fixtures_path)],
            env=production_env, cwd=REPO, check=True, capture_output=True, text=True,
        ).stdout)
        if args.generator == "wrk":
            ensure_wrk()
        surname = ", ".join(data["fixtures"]["surname"])
        log(f"Bench case worker sees {data['visible_clients']:,} clients; {data['cases']:,} cases; "
            f"search term {surname}.")
        port = free_port()
        load_before = os.getloadavg()
        log(f"Starting gunicorn ({args.workers} workers) on {HOST}:{port}.")
        results = []
        with gunicorn(production_env, port, args.workers, work / "gunicorn.log"):
            verify_targets(port, targets, data)
            log("Every target answers as expected; measuring.")
            for target in targets:
                if args.generator == "wrk":
                    log(f"{target.name}: wrk, {args.connections} connections for {args.duration} s")
                    measured = run_wrk(target, data, url=f"http://{HOST}:{port}", connections=args.connections,
                                       threads=args.threads, duration=args.duration, work=work,
                                       name=slug(target.name))
                else:
                    log(f"{target.name}: locust, {args.users} users for {args.duration} s")
                    measured = run_locust(target, args, port, fixtures_path, work)
                measured["queries"] = queries.get(target.name)
                results.append(measured)
        # The trivial view, measured in the same run, is the ceiling of the stack: a page's throughput as
        # a share of it says how much of the machine the page itself costs, whatever the machine.
        ceiling = next((r["rps"] for r in results if r["name"] == "healthz" and r["rps"]), None)
        for measured in results:
            measured["ratio_to_ceiling"] = round(measured["rps"] / ceiling, 3) if ceiling else None
        result = {
            "started_at": started_at.isoformat(timespec="seconds"),
            "commit": git_commit(),
            "clients": args.clients,
            "visible_clients": data["visible_clients"],
            "cases": data["cases"],
            "audit_rows": data.get("audit_rows", 0),
            "generator": args.generator,
            "connections": args.connections,
            "users": args.users,
            "duration_s": args.duration,
            "workers": args.workers,
            "cpu_count": os.cpu_count(),
            # Other work on the machine distorts the figures; the 1-minute load average shows it.
            "load_average": {"before": round(load_before[0], 2), "after": round(os.getloadavg()[0], 2)},
            "python": platform.python_version(),
            "database": "postgresql",
            "seeding": seeding,
            "import": imported,
            "targets": results,
        }
    except Exception:
        log_file = work / "gunicorn.log"
        if log_file.exists():
            print("--- gunicorn log (tail) ---\n" + "\n".join(log_file.read_text().splitlines()[-30:]),
                  file=sys.stderr)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    RESULTS.mkdir(exist_ok=True)
    stamp = started_at.strftime("%Y%m%dT%H%M%S")
    text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    (RESULTS / f"{stamp}.json").write_text(text, encoding="utf-8")
    (RESULTS / "latest.json").write_text(text, encoding="utf-8")
    table = markdown(result)
    (RESULTS / "latest.md").write_text(table, encoding="utf-8")
    print("\n" + table)
    return 1 if any(t["errors"] for t in results) else 0


if __name__ == "__main__":
    sys.exit(main())
