"""`python -m bot.dev.demo`: the bot on SQLite, the fake LINE server and the chat simulator.

No LINE channel needed: the bot's LINE hosts point at the fake, which checks every
request (against the OpenAPI documents when ../shared/line-openapi is beside the
checkout, else with the SDK's own request models) and shows replies in the simulator.
"""
from __future__ import annotations

import argparse
import logging

from werkzeug.serving import make_server

from bot.app import create_app
from bot.config import DEMO_ADMIN_TOKEN, Settings
from bot.db import upgrade
from bot.dev.fakeline import FakeLine

log = logging.getLogger("bot.dev.demo")


DEMO_STAFF = (("cashier", "demo1234", "cashier", "小美（店員）"), ("manager", "demo1234", "manager", "阿德（店長）"))
DEMO_SECOND_STORE_STAFF = ("zhongshan", "demo1234", "cashier", "阿華（中山店）")
DEMO_ADMIN = ("admin@demo.tw", "demo1234", "owner", "品牌行銷（Demo）")


DEMO_MEMBERS = 300  # members with a year of history; `--members 0` (or `--empty`) starts with none


def seed(app, *, members: int = DEMO_MEMBERS, empty: bool = False) -> None:  # type: ignore[no-untyped-def]
    """The café, once: stores and staff, the earning rule and rewards, and unless ``empty`` tiers,
    coupons, automations switched on and ``members`` members with a year of purchases
    (``bot.dev.demo_seed``). A database seeded before is left as it is."""
    from models.reward import create_item, list_items
    from models.rule import get_rule, update_rule
    from models.segment import compute_stats
    from models.store import Store, create_staff, create_store, update_store

    from models.admin_user import AdminUser, create_admin_user
    from bot.dev import demo_seed

    svc = app.extensions["loyalty"]
    now = svc.now()
    with svc.db.transaction() as session:  # on its own: a demo database from before the console gets it too
        email, password, role, name = DEMO_ADMIN
        if not session.query(AdminUser).filter_by(email=email).first():
            create_admin_user(session, email=email, password=password, role=role, display_name=name, now=now)
    with svc.db.transaction() as session:
        if session.query(Store).filter_by(code="DEMO").first():
            return
        store = create_store(session, code="DEMO", name="好日子咖啡 信義店", now=now)
        update_store(session, "DEMO", {"address": "台北市信義區松高路 11 號", "hours": "每日 07:30–20:00", "phone": "02-2720-1234",
                                       "latitude": "25.039160", "longitude": "121.567340"})
        for username, password, role, name in DEMO_STAFF:
            create_staff(session, store, username=username, password=password, role=role, display_name=name, now=now)
        get_rule(session)
        update_rule(session, {"amount_per_point": "10", "stamps_per_visit": 1, "card_size": 8, "reward_name": "招牌拿鐵一杯"}, now=now)
        if not list_items(session):
            create_item(session, name="手工餅乾", points_cost=30, now=now)
            create_item(session, name="帆布袋", points_cost=120, now=now)
        if empty:
            return
        second = create_store(session, code="DEMO2", name="好日子咖啡 中山店", now=now)
        update_store(session, "DEMO2", {"address": "台北市中山區南京西路 12 號", "hours": "平日 08:00–19:00，週末 09:00–18:00"})
        username, password, role, name = DEMO_SECOND_STORE_STAFF
        create_staff(session, second, username=username, password=password, role=role, display_name=name, now=now)
        template_ids = demo_seed.seed_catalogue(session, now=now)
    if members:
        seeded = demo_seed.seed_history(svc.db, now=now, members=members, terms_version=svc.settings.terms_version)
        log.info("demo history: %s", seeded)
    with svc.db.transaction() as session:
        demo_seed.quiet_history(session)
        demo_seed.switch_on_journeys(session, template_ids, now=now)
        compute_stats(session, now=now, window_days=svc.settings.rfm_window_days, cycle_days=svc.settings.purchase_cycle_days)


def deploy_menus(app) -> str:  # type: ignore[no-untyped-def]
    """The rich menus, deployed to the fake LINE server so the simulator shows them."""
    from richmenus.deploy import DeployError, deploy
    from richmenus.menus import MenuError

    svc = app.extensions["loyalty"]
    try:
        report = deploy(svc.line, svc.db, now=svc.now, echo=log.debug)
    except (MenuError, DeployError) as exc:
        log.warning("rich menus not deployed: %s", exc)
        return f"not deployed ({exc})"
    return ", ".join(f"{name}{' (default)' if menu_id == report.default else ''}" for name, menu_id in report.created.items())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--members", type=int, default=DEMO_MEMBERS, help="made-up members with a year of history (default %(default)s)")
    parser.add_argument("--empty", action="store_true", help="start with the store and staff only: no tiers, coupons, automations or members")
    args = parser.parse_args(argv)

    fake = FakeLine(mode=None)
    fake_url = fake.start()
    base = f"http://{args.host}:{args.port}"
    env_settings = Settings.from_env(default_env="development")  # the one caller that asks for the published values
    settings = env_settings.with_overrides(
        line_api_base_url=fake_url,
        line_data_api_base_url=fake_url,
        public_base_url=base,
        dev_tools=True,
        admin_token=env_settings.admin_token or DEMO_ADMIN_TOKEN,
    )
    upgrade(settings.database_url)
    app = create_app(settings)
    seed(app, members=max(0, args.members), empty=args.empty)
    menus = deploy_menus(app)
    server = make_server(args.host, args.port, app, threaded=True)  # listening before the banner
    print(f"\n  Fake LINE server ({fake.mode} validation): {fake_url}")
    print(f"  Chat simulator:  {base}/simulator")
    print(f"  Cashier page:    {base}/cashier   (cashier / demo1234, manager / demo1234)")
    print(f"  Admin console:   {base}/admin     ({DEMO_ADMIN[0]} / {DEMO_ADMIN[1]})")
    print(f"  Rich menus:      {menus}")
    print(f"  API document:    {base}/openapi.json   (admin token: {settings.admin_token})")
    print(f"  Health:          {base}/healthz\n", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
