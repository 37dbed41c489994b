"""The bot's web app and its edges. ``gunicorn 'bot:create_app()'`` serves it."""
from bot.app import create_app

__all__ = ["create_app"]
