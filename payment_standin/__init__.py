"""Stand-in card payment provider: a separate Flask app with its own database that the
city's app reaches only over HTTP, as it would a real card company (see README.md)."""
