"""E-mails carry signed action links: a notification knows its request and step, and an e-mail's
links are used once (EmailActionUse)."""
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accountability', '0011_budget_commitmentposting'),
        ('approvals', '0009_step_channel'),
        ('requests_app', '0006_request_title_search'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='notification',
            name='request',
            field=models.ForeignKey(blank=True, help_text='The request the notice is about: its e-mails form one conversation.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='requests_app.servicerequest'),
        ),
        migrations.AddField(
            model_name='notification',
            name='step',
            field=models.ForeignKey(blank=True, help_text='The approval a “waiting for your decision” notice asks to decide: its e-mail carries the signed action links.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='approvals.step'),
        ),
        migrations.CreateModel(
            name='EmailActionUse',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('action', models.CharField(max_length=16)),
                ('used_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('approver', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('notification', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='action_use', to='accountability.notification')),
                ('step', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='approvals.step')),
            ],
        ),
    ]
