#!/usr/bin/env python3
"""Creates N API keys on a running Keyport over REST and writes their plaintexts, one per line.

usage: make_keys.py BASE_URL ADMIN_EMAIL ADMIN_PASSWORD N OUT_FILE
"""
import http.client
import json
import sys
import urllib.parse


def main() -> None:
    base, email, password, count, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    url = urllib.parse.urlparse(base)
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

    token = post("/api/v1/auth/login", {"email": email, "password": password})["access_token"]
    with open(out, "w", encoding="ascii") as f:
        for i in range(count):
            if i and i % 2000 == 0:
                # access tokens last 15 minutes; a fresh one keeps long runs going
                token = post("/api/v1/auth/login", {"email": email, "password": password})["access_token"]
            key = post("/api/v1/keys", {"name": f"bench {i}", "scopes": ["read"]}, token)["key"]
            f.write(key + "\n")


if __name__ == "__main__":
    main()
