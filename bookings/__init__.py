"""Booking reads that several screens share: where a booking stands on money, the 表示条件 of
a list of bookings and its filter form, and the reference to one slot. Screen areas import
this package, never each other."""
