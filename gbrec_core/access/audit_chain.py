"""The audit log's hash chain: each entry is sealed with an HMAC over its fields, its
sequence number and the previous entry's seal.

Editing an entry breaks its own seal; removing one breaks the next entry's link (or,
for the newest, the head record); removing the oldest below the retention cap shows as
a short log that does not start at 1. The key (derived from the signing key, which
lives outside Redis) keeps someone who can write to Redis from re-sealing the chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

GENESIS = "0" * 64
MAC = "mac"


def audit_key(signing_key: bytes) -> bytes:
    """A key for the chain only, so an audit seal can never pass as an artifact's."""
    return hmac.new(signing_key, b"gbrec audit chain", hashlib.sha256).digest()


def seal(key: bytes, body: Mapping[str, str], *, seq: int, prev: str) -> dict[str, str]:
    """``body`` with its place in the chain and its seal."""
    fields = {**body, "seq": str(seq), "prev": prev}
    fields[MAC] = _mac(key, fields)
    return fields


def head_of(fields: Mapping[str, str]) -> str:
    return f"{fields['seq']}:{fields[MAC]}"


def parse_head(raw: str | None) -> tuple[int, str]:
    """(sequence number, seal) of the newest entry; (0, GENESIS) for an empty log."""
    if not raw:
        return 0, GENESIS
    seq, _, mac = raw.partition(":")
    return int(seq), mac


def _mac(key: bytes, fields: Mapping[str, str]) -> str:
    payload = json.dumps(
        {name: fields[name] for name in sorted(fields) if name != MAC}, separators=(",", ":")
    )
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


@dataclass
class ChainReport:
    """What ``gbrec audit verify`` prints: entries checked and every break found."""

    entries: int = 0
    first_seq: int = 0
    last_seq: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(
    key: bytes, entries: Iterable[tuple[str, Mapping[str, str]]], head: str | None, *, cap: int
) -> ChainReport:
    """Check ``entries`` (oldest first) against their seals, links and the head record;
    a log may start after 1 only when retention trimmed it (it then holds ~``cap``)."""
    report = ChainReport()
    prev_seq, prev_mac = 0, ""
    for entry_id, fields in entries:
        seq = _check_entry(key, entry_id, fields, prev_seq, prev_mac, report)
        prev_seq, prev_mac = seq, fields.get(MAC, "")
        report.first_seq = report.first_seq or seq
        report.entries += 1
    report.last_seq = prev_seq
    _check_ends(report, head, prev_seq, prev_mac, cap)
    return report


def _check_entry(
    key: bytes,
    entry_id: str,
    fields: Mapping[str, str],
    prev_seq: int,
    prev_mac: str,
    report: ChainReport,
) -> int:
    seq = int(fields.get("seq", "0") or 0)
    if not hmac.compare_digest(_mac(key, fields), fields.get(MAC, "")):
        report.problems.append(f"entry {entry_id} (#{seq}) was edited: its seal does not match")
    if prev_seq and (seq != prev_seq + 1 or fields.get("prev") != prev_mac):
        report.problems.append(f"entries between #{prev_seq} and {entry_id} (#{seq}) were removed")
    return seq


def _check_ends(
    report: ChainReport, head: str | None, last_seq: int, last_mac: str, cap: int
) -> None:
    head_seq, head_mac = parse_head(head)
    if head is None and report.entries:
        report.problems.append("the chain's head record is missing")
    elif head_seq != last_seq or (last_seq and head_mac != last_mac):
        report.problems.append(
            f"the newest entries were removed or replaced (head #{head_seq}, log ends #{last_seq})"
        )
    if report.first_seq > 1 and report.entries < cap:
        report.problems.append(
            f"the oldest entries were removed: the log starts at #{report.first_seq} but holds "
            f"only {report.entries} of the {cap} retention keeps"
        )
