"""What every area shares: channels, rendering, error reporting, formats, data access."""
