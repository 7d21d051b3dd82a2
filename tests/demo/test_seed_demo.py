"""The demo reads like a real organisation's books: overdue time is posted in the quarter in
which it passed, as it is when beat runs the delay scan every minute — not as one large
adjustment of closed quarters when the seed scans once at the end."""

import pytest
from django.core.management import call_command
from django.db.models import Sum

from accountability.models import DelayPosting

pytestmark = pytest.mark.django_db


def test_the_demo_posts_delays_in_their_quarter_not_as_adjustments():
    call_command("seed_demo", requests=120, verbosity=0)
    postings = DelayPosting.objects.all()
    periods = set(postings.values_list("period", flat=True))
    assert len(periods) >= 2, "the demo spans more than one quarter of delays"
    assert postings.aggregate(s=Sum("amount"))["s"] > 0
    adjustments = postings.adjustments()
    assert adjustments.aggregate(s=Sum("amount"))["s"] is None, list(
        adjustments.values_list("quarter", "period", "amount", "reason")[:5])
