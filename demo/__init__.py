"""Demo data relative to today (DESIGN "Contracts"): the catalogue, residents, bookings."""
