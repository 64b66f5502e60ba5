"""Many documents from one Word template, fast.

docxtpl loads, renders and re-saves the whole package for every document (about 25 ms a letter).
Here the template is prepared once: docxtpl's own tag clean-up, then one compiled Jinja2 template
per XML part. Each document renders only those parts, with docxtpl's own post-processing, and is
written as a zip whose unchanged members are copied as their already-compressed bytes. The XML of
every member is the same as docxtpl's (a test compares them member by member).
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
    """A Word template compiled once; ``render(context)`` gives the XML members that change."""

    def __init__(self, template_data: bytes, env, default_title: str | None = None):
        from docxtpl import DocxTemplate

        env.autoescape = True  # compiled in: docxtpl sets the same for render(autoescape=True)
        self.env = env
        self.default_title = default_title
        self.tpl = tpl = DocxTemplate(BytesIO(template_data))
        tpl.render_init()
        self.body = self._compile(tpl.patch_xml(tpl.get_xml()))
        self.xml_parts = []
        for uri in (tpl.HEADER_URI, tpl.FOOTER_URI):
            for _, part in tpl.get_headers_footers(uri):
                xml = tpl.get_part_xml(part)
                self.xml_parts.append((_member(part.partname), self._compile(tpl.patch_xml(xml)),
                                       tpl.get_headers_footers_encoding(xml)))
        self.blob_parts = [(_member(part.partname), self._compile(tpl.patch_xml(part.blob.decode("utf-8"))))
                           for part in tpl.docx.part.package.parts if part.content_type == FOOTNOTES]
        core = tpl.docx.core_properties
        self.properties = [(name, env.from_string(getattr(core, name) or "")) for name in CORE_PROPERTIES]
        self.core_member = _member(tpl.docx.part.package._core_properties_part.partname)

    def _compile(self, xml: str):
        return self.env.from_string(_PARAGRAPH.sub(r"\n<w:p\1", xml))

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
        members = {"word/document.xml": serialize_part_xml(root)}
        for name, template, encoding in self.xml_parts:
            members[name] = serialize_part_xml(parse_xml(self._finish(template.render(context)).encode(encoding)))
        for name, template in self.blob_parts:
            members[name] = self._finish(template.render(context)).encode("utf-8")
        core = tpl.docx.core_properties
        for name, template in self.properties:
            setattr(core, name, template.render(context))
        if self.default_title and not core.title:
            core.title = self.default_title
        members[self.core_member] = serialize_part_xml(core._element)
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
        """The package as bytes: ``replaced`` members compressed anew, the others copied as they are."""
        out: list[bytes] = []
        central = []
        offset = 0
        for member in self.members:
            new = replaced.get(member.name.decode("utf-8"))
            if new is not None:
                member = _deflated(member, new)
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
