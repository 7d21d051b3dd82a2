"""Accountability reads (dashboards and the quarterly report): ``scope`` says who sees which
departments, ``board`` the bottleneck board, department pages and handoffs, ``report`` the
quarterly cost report. Read-only; the lifecycle never imports this package."""
