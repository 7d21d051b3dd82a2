"""Governance pages, one module per subject (notifications, dashboards, reports, plans)."""
