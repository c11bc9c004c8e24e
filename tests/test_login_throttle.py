"""The login throttle under attack (issue 15, row 2): real ``examroom serve``, real sockets.

300 concurrent wrong passwords get at most 10 password checks; the admin still logs in from
another address, and from the attacked address with the device token an earlier login gave
their browser; guesses spread over many addresses hit the account's own budget. The
budgets themselves: decay, bounded memory, and no flood that resets them.
"""
from __future__ import annotations

import http.client
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from supervisor.throttle import Budget, LoginGuard, TooManyAttempts, address_key
from tests.server_support import PASSWORD, LiveServer


def login_from(server: LiveServer, source: str, password: str, device: str | None = None,
               username: str = "admin") -> tuple[int, dict, dict]:
    """POST /login from a chosen loopback source address (127.0.0.0/8 is all ours)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60, source_address=(source, 0))
    try:
        body = {"username": username, "password": password, **({"device": device} if device else {})}
        conn.request("POST", "/api/v1/login", json.dumps(body), {"Content-Type": "application/json"})
        reply = conn.getresponse()
        return reply.status, json.loads(reply.read()), dict(reply.getheaders())
    finally:
        conn.close()


@pytest.fixture()
def server(tmp_path):
    live = LiveServer(tmp_path).start()
    yield live
    live.stop()


def test_300_concurrent_guesses_get_10_checks_and_the_admin_still_gets_in(server):
    status, body, _ = login_from(server, "127.0.0.1", PASSWORD)
    assert status == 200 and body["device"]
    device = body["device"]  # the admin's browser, from an earlier session
    with ThreadPoolExecutor(300) as pool:
        replies = list(pool.map(lambda n: login_from(server, "127.0.0.1", f"guess {n}"), range(300)))
    statuses = [status for status, _, _ in replies]
    assert statuses.count(401) <= 10 and statuses.count(401) + statuses.count(429) == 300, statuses
    refused = next(r for r in replies if r[0] == 429)
    assert refused[1]["code"] == "too_many_attempts" and int(refused[2]["retry-after"]) > 0
    # Same address, right password, no device token: locked for now (someone there is guessing).
    assert login_from(server, "127.0.0.1", PASSWORD)[0] == 429
    # The admin's own browser (device token) on the same NAT address is not locked out...
    status, body, _ = login_from(server, "127.0.0.1", PASSWORD, device)
    assert status == 200 and body["token"].startswith("sv_")
    # ...nor is another address; a forged device token counts as none.
    assert login_from(server, "127.0.0.2", PASSWORD)[0] == 200
    assert login_from(server, "127.0.0.1", PASSWORD, device + "x")[0] == 429
    assert login_from(server, "127.0.0.1", PASSWORD, "forged.token")[0] == 429


def test_guesses_from_many_addresses_hit_the_accounts_budget_not_the_admins_browser(server):
    device = login_from(server, "127.0.0.9", PASSWORD)[1]["device"]
    sources = [f"127.0.{n}.{m}" for n in range(1, 7) for m in range(1, 21)]  # 120 addresses
    with ThreadPoolExecutor(40) as pool:
        statuses = list(pool.map(lambda src: login_from(server, src, "guess")[0], sources))
    assert statuses.count(401) <= 100 and statuses.count(429) >= 20, statuses
    # The account's budget decays (one try every 36 s): on a loaded machine the flood itself can
    # outlast that, so it is topped up from new addresses until refused, then tried at once.
    for n in range(1, 50):
        if login_from(server, f"127.0.8.{n}", "guess")[0] == 429:
            break
    assert login_from(server, "127.0.9.9", PASSWORD)[0] == 429  # a new address: the account is under attack
    assert login_from(server, "127.0.9.9", PASSWORD, device)[0] == 200  # its known browser: fine
    # Unknown accounts from one address: the address's budget (30) stops the enumeration.
    statuses = [login_from(server, "127.0.10.1", "x", username=f"user{n}")[0] for n in range(40)]
    assert statuses.count(401) <= 30 and statuses[-1] == 429


def test_budgets_decay_stay_bounded_and_a_flood_does_not_reset_them():
    now = [0.0]
    budget = Budget(10, 300, max_keys=1000, clock=lambda: now[0])
    for _ in range(10):
        budget.add(("admin", "10.0.0.5"))
    assert budget.wait_s(("admin", "10.0.0.5")) == pytest.approx(30)
    for n in range(10_050):  # one failure from each of 10,050 other addresses
        budget.add(("admin", f"10.1.{n // 250}.{n % 250}"))
        assert len(budget) <= 1000
    assert budget.wait_s(("admin", "10.0.0.5")) > 0  # still throttled: never cleared
    now[0] = 30
    assert budget.wait_s(("admin", "10.0.0.5")) == 0  # decays: one more try every 30 s
    assert budget.level(("admin", "10.0.0.5")) == pytest.approx(9)


def test_the_guard_charges_before_the_check_and_refunds_a_success():
    guard = LoginGuard(clock=lambda: 0.0)
    attempts = []
    with pytest.raises(TooManyAttempts):
        for _ in range(11):  # nothing awaited in between: what 11 concurrent requests do
            attempts.append(guard.begin("admin", "10.0.0.5"))
    assert len(attempts) == 10
    device = guard.succeeded(attempts[0])
    assert guard.begin("Admin", "10.0.0.5", device)  # the device token is per account, case-insensitive
    assert guard.device_of("admin", device) and guard.device_of("other", device) is None
    assert address_key("2001:db8::1") == address_key("2001:db8::ffff") == "2001:db8::/64"
    assert address_key("::ffff:10.0.0.5") == "10.0.0.5"
