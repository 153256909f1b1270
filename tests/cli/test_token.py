"""``twinsync token`` creates, lists and revokes tokens; ``demo`` prints a sign-in link for
its admin; ``serve`` will not listen beyond this machine with nobody able to run it."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
from tests.server import Server

from twinsync.cli.serve_cmd import has_admin, loopback


def twinsync(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "twinsync", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_a_token_is_shown_once_listed_without_its_secret_and_revoked(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    made = twinsync("token", "create", "site gateway", "--role", "device", "--sensor", "L1-*",
                    "--days", "30", "--store", store, "--json", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    token = json.loads(made.stdout)
    assert token["token"].startswith("tws_") and token["sensors"] == ["L1-*"]
    assert token["expires_at"] > time.time() + 29 * 86_400
    listed = twinsync("token", "list", "--store", store, "--json", cwd=tmp_path)
    assert token["token"] not in listed.stdout
    assert [t["id"] for t in json.loads(listed.stdout)] == [token["id"]]
    assert twinsync("token", "revoke", token["id"], "--store", store,
                    cwd=tmp_path).returncode == 0
    assert "revoked" in twinsync("token", "list", "--store", store, cwd=tmp_path).stdout
    assert twinsync("token", "revoke", "nope", "--store", store, cwd=tmp_path).returncode == 1


def test_a_device_token_needs_its_sensors(tmp_path: Path) -> None:
    refused = twinsync("token", "create", "gw", "--role", "device",
                       "--store", f"sqlite:///{tmp_path / 't.sqlite'}", cwd=tmp_path)
    assert refused.returncode == 2 and "sensors" in refused.stderr


def test_serve_refuses_an_outside_address_while_the_store_has_no_admin(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    refused = twinsync("serve", "--host", "0.0.0.0", "--port", "1", "--store", store,
                       cwd=tmp_path)
    assert refused.returncode == 2 and "no admin token or user" in refused.stderr
    assert not has_admin(store)
    twinsync("token", "create", "viewer", "--role", "viewer", "--store", store, cwd=tmp_path)
    assert not has_admin(store)  # a viewer cannot run the twin
    twinsync("token", "create", "me", "--role", "admin", "--store", store, cwd=tmp_path)
    assert has_admin(store)
    assert loopback("127.0.0.1") and loopback("::1") and loopback("localhost")
    assert not loopback("0.0.0.0") and not loopback("192.168.1.20")
    assert not loopback("twin.example.com")


def test_the_demo_prints_a_sign_in_link_for_its_admin(tmp_path: Path) -> None:
    server = Server("demo", "--store", f"sqlite:///{tmp_path / 'twin.sqlite'}", cwd=tmp_path)
    server.start()
    try:
        link = re.search(r"(http://\S+)/login#token=(tws_\S+)", server.log.read_text())
        assert link is not None
        assert link.group(1) == server.url
        answer = httpx.get(f"{server.url}/api/session",
                           headers={"Authorization": f"Bearer {link.group(2)}"})
        assert answer.json()["role"] == "admin"
        assert httpx.get(f"{server.url}/login").status_code == 200
        assert httpx.get(f"{server.url}/api/project").status_code == 401
    finally:
        server.stop()


def test_a_user_is_added_with_a_password_listed_without_it_and_removed(
        tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'twin.sqlite'}"

    def user(*args: str, password: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "twinsync", "user", *args,
                               "--store", store], cwd=tmp_path, capture_output=True,
                              text=True, timeout=120, input=password + "\n")

    assert user("add", "ana", "--role", "admin", "--password-stdin",
                password="short").returncode == 2  # too short
    assert user("add", "ana", "--role", "device", "--password-stdin",
                password="long enough here").returncode == 2  # people are not devices
    assert user("add", "ana", "--role", "admin", "--password-stdin",
                password="long enough here").returncode == 0
    assert user("add", "ana", "--role", "viewer", "--password-stdin",
                password="another password").returncode == 2  # the name is taken
    listed = user("list", "--json")
    [entry] = json.loads(listed.stdout)
    assert entry["name"] == "ana" and entry["role"] == "admin"
    assert "argon2" not in listed.stdout and "long enough" not in listed.stdout
    assert has_admin(store)  # an admin user may run a twin on an outside address
    assert user("remove", "ana").returncode == 0
    assert json.loads(user("list", "--json").stdout) == []
    assert not has_admin(store)


def test_users_who_share_a_name_are_reported_and_removed_by_id(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'twin.sqlite'}"

    def user(*args: str, password: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "twinsync", "user", *args,
                               "--store", store], cwd=tmp_path, capture_output=True,
                              text=True, timeout=120, input=password + "\n")

    assert user("add", "ana", "--role", "admin", "--password-stdin",
                password="long enough here").returncode == 0
    # A store made before names were unique: a second live ana, put in by hand.
    with sqlite3.connect(tmp_path / "twin.sqlite") as c:
        c.execute("DROP INDEX tokens_user_name")
        c.execute("INSERT INTO tokens SELECT 'second-ana', name, 'viewer', x'00', "
                  "created_at + 1, expires_at, revoked_at, sensors, kind, parent, password "
                  "FROM tokens WHERE name = 'ana'")
    listed = user("list")
    assert "2 live users are named 'ana'" in listed.stderr and "second-ana" in listed.stderr
    ambiguous = user("remove", "ana")
    assert ambiguous.returncode == 1 and "remove one with --id" in ambiguous.stdout
    assert user("remove", "--id", "second-ana").returncode == 0
    assert [u["role"] for u in json.loads(user("list", "--json").stdout)] == ["admin"]
    assert user("list").stderr == ""
