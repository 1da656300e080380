"""Load one target with wrk (Debian's package), the lean load generator of the benchmark.

locust spends a core of its own before the server is saturated; wrk, written in C with a small Lua hook,
drives 16 connections on one core with room to spare, so the figures measure the server. Each connection
carries the credentials of one of the persona's sessions (or the API token) and walks through a list of
paths rendered from the fixtures; the Lua script counts every answer whose status is not the expected one
(a redirect to the login page included) and reports latency percentiles, requests per second and those
failures as one JSON line.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

from targets import Target

PATHS_PER_TARGET = 200

LUA = r"""
local paths = {PATHS}
local credentials = {CREDENTIALS}
local method = "{METHOD}"
local expected = {EXPECTED}
local extra = {HEADERS}
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  unexpected = 0
  sample = ""
  position = id * 7
  -- One header set per session of the persona: the requests of a thread take them in turn, as if several
  -- people of the same role worked at once.
  header_sets = {}
  for i, credential in ipairs(credentials) do
    local headers = {}
    for k, v in pairs(extra) do headers[k] = v end
    for k, v in pairs(credential) do headers[k] = v end
    headers["X-Forwarded-Proto"] = "https"
    header_sets[i] = headers
  end
end

function request()
  position = position + 1
  local headers = header_sets[(position % #header_sets) + 1]
  return wrk.format(method, paths[(position % #paths) + 1], headers)
end

function response(status, response_headers, body)
  if status ~= expected then
    unexpected = unexpected + 1
    if sample == "" then sample = "HTTP " .. status .. " " .. (response_headers["Location"] or "") end
  end
end

function done(summary, latency, requests)
  local failures, samples = 0, ""
  for _, thread in ipairs(threads) do
    failures = failures + thread:get("unexpected")
    local s = thread:get("sample")
    if s ~= "" and samples == "" then samples = s end
  end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"mean_us": %.1f, "socket_errors": %d, "unexpected": %d, "sample": "%s"}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean, errors, failures, samples:gsub('"', "'")))
end
"""


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _lua_table(mapping: dict[str, str]) -> str:
    return "{" + ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in mapping.items()) + "}"


def script(target: Target, data: dict[str, Any], connections: int, seed: int = 0) -> str:
    """The Lua script that loads ``target`` with the persona's credentials, one set per connection."""
    rng = random.Random(seed)
    paths = [target.render(data["fixtures"], rng) for _ in range(PATHS_PER_TARGET)]
    credentials = [target.credentials(data, index) for index in range(connections)] or [{}]
    replacements = {
        "{PATHS}": "{" + ", ".join(_lua_string(p) for p in paths) + "}",
        "{CREDENTIALS}": "{" + ", ".join(_lua_table(c) for c in credentials) + "}",
        "{METHOD}": target.method,
        "{EXPECTED}": str(target.expect_status),
        "{HEADERS}": _lua_table(target.headers),
    }
    text = LUA
    for key, value in replacements.items():
        text = text.replace(key, value)
    return text


def ensure_wrk() -> str:
    """The path of wrk; installs Debian's package when it is missing (as .ci/run installs Chromium)."""
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL,
                   env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed and could not be installed (apt-get install wrk)")
    return found


def run_wrk(target: Target, data: dict[str, Any], *, url: str, connections: int, threads: int, duration: int,
            work: Path, name: str) -> dict[str, Any]:
    """Load ``target`` for ``duration`` seconds; returns requests, latencies (ms), req/s and failures."""
    lua = work / f"{name}.lua"
    lua.write_text(script(target, data, connections), encoding="utf-8")
    command = [ensure_wrk(), "-c", str(connections), "-t", str(threads), "-d", f"{duration}s", "--timeout", "10s",
               "-s", str(lua), url]
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    line = next((ln for ln in reversed(finished.stdout.splitlines()) if ln.startswith("{")), None)
    if finished.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed for {target.name}:\n{finished.stdout[-2000:]}\n{finished.stderr[-2000:]}")
    raw = json.loads(line)
    seconds = raw["duration_us"] / 1e6
    errors = raw["unexpected"] + raw["socket_errors"]
    if raw["requests"] == 0:
        # Nothing answered within the window: no latency to report, and the target counts as failed.
        return {"name": target.name, "method": target.method, "path": target.path, "persona": target.persona,
                "generator": "wrk", "connections": connections, "requests": 0, "errors": max(errors, 1),
                "rps": 0.0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None, "avg_ms": None,
                "failure_samples": [f"no request completed within {duration} s"]}
    return {
        "name": target.name,
        "method": target.method,
        "path": target.path,
        "persona": target.persona,
        "generator": "wrk",
        "connections": connections,
        "requests": raw["requests"],
        "errors": errors,
        "rps": round(raw["requests"] / seconds, 1) if seconds else 0.0,
        "p50_ms": round(raw["p50_us"] / 1000, 1),
        "p95_ms": round(raw["p95_us"] / 1000, 1),
        "p99_ms": round(raw["p99_us"] / 1000, 1),
        "max_ms": round(raw["max_us"] / 1000, 1),
        "avg_ms": round(raw["mean_us"] / 1000, 1),
        "failure_samples": [raw["sample"]] if raw["sample"] else [],
    }
