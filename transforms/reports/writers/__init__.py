"""Versioned writers: each turns one report kind's `ReportDoc` into files (layout only, no numbers computed)."""
