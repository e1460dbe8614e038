"""Demo data: a seeded, realistic city network written in the inventory import format."""
