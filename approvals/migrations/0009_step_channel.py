"""Where a step was decided: the page, an e-mail link, an e-mail reply or the API.

Decisions taken before this column existed keep an empty channel (where they were taken was
not recorded); a decision recorded as taken outside the tool has none either."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('approvals', '0008_step_separation_of_duties'),
    ]

    operations = [
        migrations.AddField(
            model_name='step',
            name='channel',
            field=models.CharField(blank=True, choices=[('page', 'page'), ('email_link', 'e-mail link'), ('email_reply', 'e-mail reply'), ('api', 'API')], default='', help_text='Where the decision was taken: the page, an e-mail link, an e-mail reply or the API. Empty while undecided, for execution steps and for decisions recorded as taken outside the tool.', max_length=16, verbose_name='channel of the decision'),
        ),
        migrations.AddConstraint(
            model_name='step',
            constraint=models.CheckConstraint(condition=models.Q(('channel__in', ['', 'page', 'email_link', 'email_reply', 'api'])), name='step_channel_valid'),
        ),
    ]
