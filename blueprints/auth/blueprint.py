"""The auth blueprint: ログイン and ログアウト (routes.py) and the account pages (account.py)
register their views on it; app.py imports both before registering it."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
