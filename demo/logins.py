"""Who to sign in as in the demo (``seed_demo`` creates them; ``make run`` lists them).

Plain data, importable without Django, so the runner can print it without loading the app."""

DEMO_PASSWORD = "demo"

DEMO_LOGINS = [
    ("alice", "employee, Marketing"),
    ("hank", "head of Marketing"),
    ("fiona", "head of Finance"),
    ("ivan", "agent in IT"),
    ("irene", "head of IT"),
    ("olivia", "ops leader"),
    ("admin", "superuser (Django admin)"),
]
