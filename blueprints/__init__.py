"""Flask blueprints, one package per area; `core` holds what every area shares."""
