"""備品（付帯品）: equipment on a booking (guide §5-2, DESIGN rule 10)."""
