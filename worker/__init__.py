"""The background worker: mail delivery, voids, payment deadlines, stale card sessions, reconcile."""
