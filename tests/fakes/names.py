"""Names an attacker could give a record, for tests of escaping."""

#: HTML that runs script, and Jinja syntax that a template would evaluate.
HOSTILE_NAME = '<img src=x onerror="window.__xss=1">{{7*7}} & Cie'
