"""``flask --app bot richmenu render|deploy``: draw the rich menu images, put the menus on LINE."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from bot.services import services


def register(app: Flask) -> None:
    group = AppGroup("richmenu", help="Rich menus: images drawn from richmenus/definitions, deployed to LINE.")

    @group.command("render")
    @click.option("--force", is_flag=True, help="draw every image again, even when up to date")
    def render_cmd(force: bool) -> None:
        """Draw the images (richmenus/images/<name>.png) of every definition."""
        from richmenus.menus import MenuError, load_menus
        from richmenus.render import image_for

        try:
            for menu in load_menus():
                image = image_for(menu, force=force)
                width, height = menu.size
                click.echo(f"{menu.name}: {width}x{height}, {image.describe()}")
        except MenuError as exc:
            raise click.ClickException(str(exc)) from exc

    @group.command("deploy")
    @click.option("--force-render", is_flag=True, help="draw every image again before deploying")
    def deploy_cmd(force_render: bool) -> None:
        """Validate, create and upload the menus, set the default and aliases, relink members,
        and delete the menus of the previous deploy."""
        from richmenus.deploy import DeployError, deploy, prepare
        from richmenus.menus import MenuError

        svc = services()
        try:
            menus = prepare(force_render=force_render)
            deploy(svc.line, svc.db, now=svc.now, echo=click.echo, menus=menus)
        except (MenuError, DeployError) as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo("rich menus deployed")

    app.cli.add_command(group)
