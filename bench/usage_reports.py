#!/usr/bin/env python3
"""Times usage reports over the last 30 days on a running Keyport that holds demo data
(keyport seed-demo), as the demo developer (own keys) and the demo admin (all keys).

usage: usage_reports.py BASE_URL PASSWORD ROUNDS

For each account, ROUNDS sequential requests (after 3 untimed warm-up requests) of:
  page  GET /usage?range=30d                       the portal page, rendered on the server
                                                   (report by day + breakdown: outcomes per
                                                   day, busiest keys, routes and client IPs)
  rest  GET /api/v1/analytics/usage?from=<now-30d>  the REST report (by day)
Times are wall-clock per request on one kept-alive connection, from sending the request to
reading the whole body. Prints one line per series:
  usage-report <account> <page|rest> p50_ms=.. p95_ms=.. max_ms=.. n=.. bytes=..
"""
import datetime
import http.client
import json
import statistics
import sys
import time
import urllib.parse

DEVELOPER = "demo@keyport.test"
ADMIN = "demo-admin@keyport.test"


def connect(base):
    url = urllib.parse.urlparse(base)
    return http.client.HTTPConnection(url.hostname, url.port, timeout=120)


def portal_cookie(conn, email, password):
    body = urllib.parse.urlencode({"email": email, "password": password})
    conn.request("POST", "/sfn/login", body, {"content-type": "application/x-www-form-urlencoded",
                                              "accept": "text/html"})
    res = conn.getresponse()
    res.read()
    if res.status not in (200, 302):
        sys.exit(f"portal sign-in as {email}: HTTP {res.status}")
    cookies = [v.split(";", 1)[0] for k, v in res.getheaders() if k.lower() == "set-cookie"]
    if not cookies:
        sys.exit(f"portal sign-in as {email}: no session cookie")
    return "; ".join(cookies)


def access_token(conn, email, password):
    conn.request("POST", "/api/v1/auth/login", json.dumps({"email": email, "password": password}),
                 {"content-type": "application/json"})
    res = conn.getresponse()
    body = res.read()
    if res.status != 200:
        sys.exit(f"REST sign-in as {email}: HTTP {res.status} {body[:200]!r}")
    return json.loads(body)["access_token"]


def timed(conn, path, headers, expect):
    start = time.perf_counter()
    conn.request("GET", path, headers=headers)
    res = conn.getresponse()
    body = res.read()
    elapsed = (time.perf_counter() - start) * 1000
    if res.status != 200:
        sys.exit(f"GET {path}: HTTP {res.status} {body[:300]!r}")
    if expect not in body:
        sys.exit(f"GET {path}: the answer lacks {expect!r}")
    return elapsed, len(body)


def series(conn, label, path, headers, expect, rounds):
    for _ in range(3):
        timed(conn, path, headers, expect)
    times, size = [], 0
    for _ in range(rounds):
        ms, size = timed(conn, path, headers, expect)
        times.append(ms)
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    print(f"usage-report {label} p50_ms={statistics.median(times):.1f} p95_ms={p95:.1f} "
          f"max_ms={times[-1]:.1f} n={len(times)} bytes={size}", flush=True)


def main():
    base, password, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    conn = connect(base)
    since = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=30))
    since = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    for account, email in (("developer", DEVELOPER), ("admin", ADMIN)):
        cookie = portal_cookie(conn, email, password)
        token = access_token(conn, email, password)
        series(conn, f"{account} page", "/usage?range=30d", {"cookie": cookie},
               b"Busiest keys", rounds)
        series(conn, f"{account} rest", f"/api/v1/analytics/usage?from={since}",
               {"authorization": f"Bearer {token}"}, b'"granularity":"day"', rounds)


if __name__ == "__main__":
    main()
