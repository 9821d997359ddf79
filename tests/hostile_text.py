"""Hostile text for the map tests: template payloads and HTML/JavaScript payloads.

Every text field of every layer is filled with these in the map tests; a map must
show each one literally, evaluate none, and always build.
"""

from __future__ import annotations

from pathlib import Path

#: What the cycler payloads would create if a template evaluated them.
PWNED = Path("/tmp/ancrage-maps-test-pwned")
PWNED_DIR = Path("/tmp/ancrage_maps_pwned")
_OS = "cycler.__init__.__globals__.os"

#: Payload -> pytest id.
PAYLOADS: dict[str, str] = {
    "Tiers-lieu {{7*7}}": "expression",
    "{% for x in range(3) %}x{% endfor %}": "for-loop",
    "Salle {# des fêtes": "comment-start",
    "Atelier {{ sans fin": "open-expression",
    "Fin }} de ligne": "close-expression",
    "{{ cycler.__init__.__globals__.os.popen('touch " + str(PWNED) + "').read() }}": "cycler-os",
    # No quote to escape: this one ran on maps built before names were passed as data.
    "{{ "
    + _OS
    + ".mkdir("
    + _OS
    + ".sep ~ (dict(tmp=1)|first) ~ "
    + _OS
    + ".sep ~ (dict(ancrage_maps_pwned=1)|first)) }}": "cycler-mkdir",
    "{% raw %}brut": "raw",
    '<img src=x onerror="alert(1)">Saint-Truc & <b>Cie</b>': "img-onerror",
    "</script><script>alert(2)</script>": "script-close",
    "`);alert(3);(`": "backtick",
    "${alert(4)}": "template-literal",
}
