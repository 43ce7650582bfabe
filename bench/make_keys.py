#!/usr/bin/env python3
"""Creates N API keys on a running Keyport over REST and writes their plaintexts, one per line.

usage: make_keys.py BASE_URL ADMIN_EMAIL ADMIN_PASSWORD N OUT_FILE [--limited] [--mount SLUG=URL]

--limited      give every key traffic settings (LIMITED below), so that each verification runs
               the rate limiter and the quota, yet none is refused during a benchmark.
               Without it the keys have none and verification skips traffic control.
--mount S=URL  first register an API with slug S whose upstream is URL (the gateway then serves
               it at /gw/S/...); the keys are not bound to it, so they may call it.
"""
import argparse
import http.client
import json
import urllib.parse

# A rate limit no benchmark on one machine reaches (100,000/s per key, while a run spreads
# ~20,000 req/s over 10,000 keys: ~2/s each), burst 0 so that nothing is granted on top, and
# a monthly quota of a billion. Verification still does the full work on every call: GCRA
# check and commit for the limit, quota units spent from the key's lease (leased from the
# database in blocks of 1,000, i.e. once per key per run) and the rate-limit report.
LIMITED = {
    "rate_limits": [{"name": "default", "limit": 100_000, "window": "second", "burst": 0}],
    "quota": {"period": "month", "limit": 1_000_000_000},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base")
    parser.add_argument("email")
    parser.add_argument("password")
    parser.add_argument("count", type=int)
    parser.add_argument("out")
    parser.add_argument("--limited", action="store_true")
    parser.add_argument("--mount", metavar="SLUG=URL")
    args = parser.parse_args()

    url = urllib.parse.urlparse(args.base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)

    def post(path: str, body: dict, token: str | None = None) -> dict:
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        conn.request("POST", path, json.dumps(body), headers)
        res = conn.getresponse()
        data = res.read()
        if res.status >= 300:
            raise SystemExit(f"{path}: HTTP {res.status}: {data[:300]!r}")
        return json.loads(data)

    def login() -> str:
        return post("/api/v1/auth/login", {"email": args.email, "password": args.password})["access_token"]

    token = login()
    if args.mount:
        slug, _, upstream = args.mount.partition("=")
        post("/api/v1/apis", {"name": f"Bench {slug}", "slug": slug, "upstream_url": upstream}, token)
    settings = LIMITED if args.limited else {}
    with open(args.out, "w", encoding="ascii") as f:
        for i in range(args.count):
            if i and i % 2000 == 0:
                # access tokens last 15 minutes; a fresh one keeps long runs going
                token = login()
            key = post("/api/v1/keys", {"name": f"bench {i}", "scopes": ["read"], **settings}, token)["key"]
            f.write(key + "\n")


if __name__ == "__main__":
    main()
