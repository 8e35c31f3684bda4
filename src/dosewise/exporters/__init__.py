"""Plans and diaries into the formats other programs read (JSON, iCalendar; later FHIR, PDF)."""
