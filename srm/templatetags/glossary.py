"""``{% term "exposure" %}Current exposure{% endterm %}``: the words on a page, with their
short definition as a tooltip (``<abbr title>``) and a link to their entry on /help/."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html

from srm.glossary import TERMS

register = template.Library()


class TermNode(template.Node):
    def __init__(self, key: template.FilterExpression, nodelist: template.NodeList):
        self.key, self.nodelist = key, nodelist

    def render(self, context) -> str:
        term = TERMS[self.key.resolve(context)]
        return format_html('<a class="term" href="{}#{}"><abbr title="{}">{}</abbr></a>',
                           reverse("help"), term.key, term.short, self.nodelist.render(context))


@register.tag
def term(parser, token):
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError('{% term "key" %}…{% endterm %}')
    key = parser.compile_filter(bits[1])
    nodelist = parser.parse(("endterm",))
    parser.delete_first_token()
    return TermNode(key, nodelist)
