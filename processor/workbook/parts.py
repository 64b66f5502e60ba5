"""Reading the XML parts of a package: names without namespaces, and whole small parts parsed safely."""

from __future__ import annotations

import zipfile


def local_name(tag: str) -> str:
    """``{namespace}sheet`` → ``sheet``."""
    return tag.rsplit("}", 1)[-1]


def parse_part(package: zipfile.ZipFile, name: str):
    """A small part as an element tree; DTDs are refused (they never come from Excel)."""
    from defusedxml.ElementTree import fromstring

    return fromstring(package.read(name), forbid_dtd=True)
