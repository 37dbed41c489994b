"""The README's run command: the demo starts from scratch and a simulated user gets a welcome."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_runs_without_a_line_channel(tmp_path):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}", "PYTHONUNBUFFERED": "1"}
    for name in ("APP_ENV", "LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "SECRET_KEY", "ADMIN_TOKEN", "PUBLIC_BASE_URL"):
        env.pop(name, None)  # no setup: unset APP_ENV is production for everything but the demo
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.dev.demo", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        banner = []
        for line in proc.stdout:  # type: ignore[union-attr]
            banner.append(line)
            if "Health:" in line:
                break
        assert any("Chat simulator" in l for l in banner), "".join(banner)
        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as r:  # listening before the banner
            assert json.load(r)["database"] == "up"
        user = "U" + "ab" * 16
        req = urllib.request.Request(
            f"{base}/dev/simulator/send",
            data=json.dumps({"userId": user, "kind": "follow", "displayName": "新朋友"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            assert json.load(r)["status"] == 200
        with urllib.request.urlopen(f"{base}/dev/simulator/messages?userId={user}&after=0", timeout=5) as r:
            deliveries = json.load(r)["messages"]
        assert "新朋友您好" in json.dumps(deliveries, ensure_ascii=False)
        req = urllib.request.Request(f"{base}/dev/simulator/send", headers={"Content-Type": "application/json"},
                                     data=json.dumps({"userId": user, "kind": "text", "text": "門市據點"}).encode())
        with urllib.request.urlopen(req, timeout=10) as r:
            assert json.load(r)["status"] == 200
        with urllib.request.urlopen(f"{base}/dev/simulator/messages?userId={user}&after=0", timeout=5) as r:
            stores = json.dumps(json.load(r)["messages"], ensure_ascii=False)
        assert "松高路 11 號" in stores and "傳送位置" in stores  # the demo stores carry their details
        with urllib.request.urlopen(f"{base}/simulator", timeout=5) as r:
            assert r.status == 200
        assert any("admin@demo.tw / demo1234" in l for l in banner), "".join(banner)
        login = urllib.request.Request(f"{base}/api/v1/admin/auth/login", data=json.dumps({"email": "admin@demo.tw", "password": "demo1234"}).encode(),
                                       headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(login, timeout=10) as r:  # the console's demo account signs in
            assert json.load(r)["user"]["role"] == "owner"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
