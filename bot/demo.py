"""`python -m bot.demo`: the bot on SQLite, the fake LINE server and the chat simulator.

No LINE channel needed: the bot's LINE hosts point at the fake, which checks every
request (against the OpenAPI documents when ../shared/line-openapi is beside the
checkout, else with the SDK's own request models) and shows replies in the simulator.
"""
from __future__ import annotations

import argparse
import logging

from bot.app import create_app
from bot.config import Settings
from bot.db import upgrade
from bot.fakeline import FakeLine

log = logging.getLogger("bot.demo")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)

    fake = FakeLine(mode=None)
    fake_url = fake.start()
    base = f"http://{args.host}:{args.port}"
    settings = Settings.from_env().with_overrides(
        line_api_base_url=fake_url,
        line_data_api_base_url=fake_url,
        public_base_url=base,
        dev_tools=True,
    )
    upgrade(settings.database_url)
    app = create_app(settings)
    print(f"\n  Fake LINE server ({fake.mode} validation): {fake_url}")
    print(f"  Chat simulator:  {base}/simulator")
    print(f"  Health:          {base}/healthz\n")
    try:
        app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
