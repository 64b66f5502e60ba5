"""Many documents from one Word template, fast.

docxtpl loads, renders and re-saves the whole package for every document (about 25 ms a letter).
Here the template is prepared once: docxtpl's own tag clean-up, then one compiled Jinja2 template
per XML part. Each document renders only those parts, with docxtpl's own post-processing, and is
written as a zip whose unchanged members are copied as their already-compressed bytes. The XML of
every member is the same as docxtpl's (tests/test_fastdocx.py compares them member by member).

This leans on docxtpl's internals, not only its public ``render``: ``DocxTemplate.render_init``,
``patch_xml``, ``get_xml``, ``get_part_xml``, ``get_headers_footers``,
``get_headers_footers_encoding``, ``HEADER_URI``/``FOOTER_URI``, ``resolve_listing``,
``fix_tables``, ``fix_docpr_ids`` with ``docx_ids_index``, and the ``docx`` attribute (python-docx's
document and package); ``_finish`` repeats what ``render_xml_part`` does after rendering. That is
why pyproject.toml bounds docxtpl to the versions the equality test has passed on (0.17 to 0.20);
before raising the bound, run that test on the new version.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from io import BytesIO

FOOTNOTES = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
CORE_PROPERTIES = ("author", "comments", "identifier", "language", "subject", "title")
_PARAGRAPH = re.compile(r"<w:p([ >])")
_PARAGRAPH_BREAK = re.compile(r"\n<w:p([ >])")
_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
_CENTRAL_HEADER = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")


class PreparedTemplate:
    """A Word template compiled once; ``render(context)`` gives the XML members that change.

    With ``per_document`` (the context name that differs between documents, ``mottagare`` for
    letters), a header, footer, footnote part or the core properties that never use it are
    rendered once, by the first document, and reused as the same bytes for the others.
    """

    def __init__(self, template_data: bytes, env, default_title: str | None = None, per_document: str | None = None):
        from docxtpl import DocxTemplate

        env.autoescape = True  # compiled in: docxtpl sets the same for render(autoescape=True)
        self.env = env
        self.default_title = default_title
        self.per_document = per_document
        self.constant: set[str] = set()
        self.fixed: dict[str, bytes] = {}
        self.tpl = tpl = DocxTemplate(BytesIO(template_data))
        tpl.render_init()
        self.body = self._compile(tpl.patch_xml(tpl.get_xml()))
        self.xml_parts = []
        for uri in (tpl.HEADER_URI, tpl.FOOTER_URI):
            for _, part in tpl.get_headers_footers(uri):
                xml = tpl.get_part_xml(part)
                self.xml_parts.append((_member(part.partname), self._compile(tpl.patch_xml(xml), _member(part.partname)),
                                       tpl.get_headers_footers_encoding(xml)))
        self.blob_parts = [(_member(part.partname), self._compile(tpl.patch_xml(part.blob.decode("utf-8")),
                                                                  _member(part.partname)))
                           for part in tpl.docx.part.package.parts if part.content_type == FOOTNOTES]
        core = tpl.docx.core_properties
        self.core_member = _member(tpl.docx.part.package._core_properties_part.partname)
        sources = [getattr(core, name) or "" for name in CORE_PROPERTIES]
        self.properties = [(name, env.from_string(source)) for name, source in zip(CORE_PROPERTIES, sources)]
        if not any(self._varies(source) for source in sources):
            self.constant.add(self.core_member)

    def _compile(self, xml: str, member: str | None = None):
        source = _PARAGRAPH.sub(r"\n<w:p\1", xml)
        if member and not self._varies(source):
            self.constant.add(member)
        return self.env.from_string(source)

    def _varies(self, source: str) -> bool:
        """Whether a part's source uses the context name that differs between documents."""
        from jinja2 import meta

        return self.per_document is None or self.per_document in meta.find_undeclared_variables(self.env.parse(source))

    def _finish(self, xml: str) -> str:
        """What docxtpl does to a rendered part (render_xml_part)."""
        xml = _PARAGRAPH_BREAK.sub(r"<w:p\1", xml)
        xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
        if not any(character in xml for character in "\t\a\n\f"):
            return xml  # resolve_listing only rewrites these characters; without them it is the identity
        return self.tpl.resolve_listing(xml)

    def render(self, context: Mapping) -> dict[str, bytes]:
        """The changed members of one document: body, headers, footers, footnotes, core properties."""
        from docx.opc.oxml import serialize_part_xml
        from docx.oxml import parse_xml

        tpl = self.tpl
        body = tpl.fix_tables(self._finish(self.body.render(context)))
        tpl.docx_ids_index = 1000
        tpl.fix_docpr_ids(body)
        root = tpl.docx._element
        root.replace(root.body, body)
        members = {"word/document.xml": serialize_part_xml(root), **self.fixed}
        for name, template, encoding in self.xml_parts:
            if name not in self.fixed:
                members[name] = serialize_part_xml(parse_xml(self._finish(template.render(context)).encode(encoding)))
        for name, template in self.blob_parts:
            if name not in self.fixed:
                members[name] = self._finish(template.render(context)).encode("utf-8")
        if self.core_member not in self.fixed:
            core = tpl.docx.core_properties
            for name, template in self.properties:
                setattr(core, name, template.render(context))
            if self.default_title and not core.title:
                core.title = self.default_title
            members[self.core_member] = serialize_part_xml(core._element)
        if not self.fixed:
            self.fixed = {name: members[name] for name in self.constant}
        return members


def _member(partname: str) -> str:
    return str(partname).lstrip("/")


@dataclass(frozen=True)
class _Member:
    name: bytes
    flags: int
    method: int
    dos_time: int
    dos_date: int
    crc: int
    compressed_size: int
    size: int
    raw: bytes


class PackageCopier:
    """A .docx package whose members are written again as their compressed bytes, some replaced."""

    def __init__(self, package: bytes):
        self.members: list[_Member] = []
        self.compressed: dict[str, tuple[bytes, _Member]] = {}
        with zipfile.ZipFile(BytesIO(package)) as archive:
            for info in archive.infolist():
                start = info.header_offset
                name_length, extra_length = struct.unpack_from("<HH", package, start + 26)
                data = start + 30 + name_length + extra_length
                year, month, day, hour, minute, second = info.date_time
                self.members.append(_Member(
                    info.filename.encode("utf-8"), 0x800 if not info.filename.isascii() else 0, info.compress_type,
                    hour << 11 | minute << 5 | second // 2, (year - 1980) << 9 | month << 4 | day,
                    info.CRC, info.compress_size, info.file_size, package[data:data + info.compress_size]))

    def document(self, replaced: Mapping[str, bytes]) -> bytes:
        """The package as bytes: ``replaced`` members compressed anew (the same bytes object as last time: once),
        the others copied as they are."""
        out: list[bytes] = []
        central = []
        offset = 0
        for member in self.members:
            name = member.name.decode("utf-8")
            new = replaced.get(name)
            if new is not None:
                last = self.compressed.get(name)
                if last is None or last[0] is not new:
                    last = self.compressed[name] = (new, _deflated(member, new))
                member = last[1]
            local = _LOCAL_HEADER.pack(0x04034B50, 20, member.flags, member.method, member.dos_time, member.dos_date,
                                       member.crc, member.compressed_size, member.size, len(member.name), 0)
            out += (local, member.name, member.raw)
            central.append(_CENTRAL_HEADER.pack(
                0x02014B50, 20, 20, member.flags, member.method, member.dos_time, member.dos_date, member.crc,
                member.compressed_size, member.size, len(member.name), 0, 0, 0, 0, 0, offset) + member.name)
            offset += len(local) + len(member.name) + len(member.raw)
        directory = b"".join(central)
        out += (directory, _END.pack(0x06054B50, 0, 0, len(central), len(central), len(directory), offset, 0))
        return b"".join(out)


def _deflated(member: _Member, data: bytes) -> _Member:
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    raw = compressor.compress(data) + compressor.flush()
    return _Member(member.name, member.flags, zipfile.ZIP_DEFLATED, member.dos_time, member.dos_date,
                   zlib.crc32(data), len(raw), len(data), raw)
