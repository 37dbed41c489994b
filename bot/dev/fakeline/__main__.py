"""Run the fake LINE API in the foreground: ``python -m bot.dev.fakeline --port 8081``."""
from __future__ import annotations

import argparse
import logging

from .server import FakeLine


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.dev.fakeline", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--mode", choices=["spec", "sdk"], default=None,
                        help="validation mode (default: spec if the OpenAPI documents exist, else sdk)")
    parser.add_argument("--spec-dir", default=None, help="directory of the LINE OpenAPI documents")
    parser.add_argument("--token", default=None, help="expected channel access token (default: any)")
    parser.add_argument("--basic-id", default="@fakebot")
    parser.add_argument("--rate-limits", choices=["line", "off"], default="line",
                        help="answer 429 beyond LINE's rate limits (multicast 200/s, others 2,000/s), or never")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    fake = FakeLine(args.mode, spec_dir=args.spec_dir, host=args.host, port=args.port,
                    expected_token=args.token, basic_id=args.basic_id,
                    rate_limits=None if args.rate_limits == "line" else {})
    logging.getLogger(__name__).info("fake LINE API on %s (mode=%s); Ctrl-C to stop", fake.url, fake.mode)
    try:
        fake.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
