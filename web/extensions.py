"""Extension objects bound to each app by create_app (shared by blueprints that decorate)."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
# Per process without Redis, shared through Redis when REDIS_URL is set.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
login_manager = LoginManager()
