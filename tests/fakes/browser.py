"""A test "browser" for BROWSER: follows the authorize URL and the redirect, like a user who is already
signed in to Dropbox and clicks "Permitir". Driven by environment variables (inherited from the test):

FAKE_BROWSER_MODE  approve (default) | wrong_state_first | ignore (user closes the tab) | fail (exit 1,
                   as when no browser can start)
FAKE_BROWSER_LOG   a file to append one JSON line per page visited: {"url", "status", "text"}
"""

from __future__ import annotations

import json
import os
import sys
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests


def log(url: str, status: int, text: str) -> None:
    path = os.environ.get("FAKE_BROWSER_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"url": url, "status": status, "text": text}) + "\n")


def visit(url: str) -> requests.Response:
    # the CA comes from REQUESTS_CA_BUNDLE, as for the product; the loopback redirect is plain http
    response = requests.get(url, allow_redirects=False, timeout=30)
    log(url, response.status_code, response.text)
    return response


def main(url: str) -> int:
    mode = os.environ.get("FAKE_BROWSER_MODE", "approve")
    log(url, 0, "opened")
    if mode == "fail":
        return 1
    if mode == "ignore":
        return 0
    page = visit(url)
    if page.status_code != 302:
        return 0
    redirect = page.headers["Location"]
    if mode == "wrong_state_first":
        parts = urlsplit(redirect)
        query = dict(parse_qsl(parts.query))
        query["state"] = "a-stale-tab-from-an-earlier-attempt"
        visit(urlunsplit(parts._replace(query=urlencode(query))))
    visit(redirect)
    return 0


def cli() -> int:
    """The entry point of the .exe launcher the tests make on Windows (tests/cloud/conftest.py)."""
    return main(sys.argv[-1])


if __name__ == "__main__":
    sys.exit(cli())
