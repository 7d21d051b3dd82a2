"""Text that goes into mail headers. A name or subject built from what people typed may hold a
line break (CR, LF, U+2028 …) or another control character: in a header that is either an
error (Django refuses it, and the mail would fail at every retry) or, worse, a header of the
sender's choosing. Everything here turns such characters into a space."""

from __future__ import annotations

import re
import unicodedata
from email.utils import formataddr

_SPACES = re.compile(r"\s+")


def header_safe(text: str) -> str:
    """``text`` with every control, line or paragraph separator character as a space and runs
    of whitespace as one space."""
    cleaned = "".join(" " if unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} else ch
                      for ch in str(text or ""))
    return _SPACES.sub(" ", cleaned).strip()


def address(name: str, email: str) -> str:
    """``Name <email>`` for a From/To header, the name made header-safe."""
    return formataddr((header_safe(name), email)) if header_safe(name) else email
