"""Ward-scale data for measuring the site (`flask seed-scale`)."""
