from django.db import models


class MembershipRole(models.TextChoices):
    MEMBER = "member", "Member"
    AGENT = "agent", "Agent"
    APPROVER = "approver", "Approver"
