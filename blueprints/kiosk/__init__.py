"""The kiosk profile's shared-terminal safety: idle sessions end (server side, and in the
browser through static/js/kiosk.js), and no form keeps a previous resident's values."""
