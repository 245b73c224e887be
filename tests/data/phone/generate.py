#!/usr/bin/env python3
"""Generate the phone-parsing conformance corpus (cases.tsv) from libphonenumber itself.

For every region's example numbers (one per number type), render them the ways people type
them into a CRM and record what libphonenumber (Python port `phonenumbers`, same metadata
version as the Rust crate) says each rendering means as E.164 under the parsing rule the
product documents:

    drop parenthesised notes that contain a letter (`(office)`, `(WhatsApp)`);
    parse with the default region; if that fails or is not a valid number,
    retry the digits as an international number (`+digits`), then without a leading
    IDD prefix of another region (`00`, `011`); else `invalid`.

Extensions never change the E.164: a rendering with an extension expects the value of the
same rendering without it.

Usage: pip install -r tests/data/phone/requirements.txt && python3 tests/data/phone/generate.py
Writes tests/data/phone/cases.tsv next to this script: `raw<TAB>region<TAB>expected<TAB>kind`.
"""
import os
import re
import sys

import phonenumbers as pn
from phonenumbers import PhoneNumberFormat as F
from phonenumbers import PhoneNumberType as T

PINNED = "9.0.42"  # the metadata version rlibphonenumber 2.2.15 embeds

TYPES = [
    T.FIXED_LINE, T.MOBILE, T.TOLL_FREE, T.PREMIUM_RATE, T.SHARED_COST, T.VOIP,
    T.PERSONAL_NUMBER, T.PAGER, T.UAN, T.VOICEMAIL,
]
FULL_WIDTH = {ord(c): chr(0xFF10 + int(c)) for c in "0123456789"}


NOTE = re.compile(r"\([^()]*[^\W\d_][^()]*\)")


def reference(raw, region):
    """The documented rule, on libphonenumber."""
    raw = NOTE.sub(" ", raw)
    try:
        n = pn.parse(raw, None if region == "ZZ" else region)
        if pn.is_valid_number(n):
            return pn.format_number(n, F.E164)
    except pn.NumberParseException:
        pass
    rest = raw.lstrip("".join(c for c in raw if not c.isdecimal()))
    if rest and not raw.lstrip().startswith("+"):
        try:
            n = pn.parse("+" + rest, None)
            if pn.is_valid_number(n):
                return pn.format_number(n, F.E164)
        except pn.NumberParseException:
            pass
        for idd in (r"0[\s\-.()]*0", r"0[\s\-.()]*1[\s\-.()]*1"):
            m = re.match(r"^[\s\-.()]*" + idd + r"(.+)$", rest)
            if m:
                try:
                    n = pn.parse("+" + m.group(1), None)
                    if pn.is_valid_number(n):
                        return pn.format_number(n, F.E164)
                except pn.NumberParseException:
                    pass
    return "invalid"


def renderings(n, region):
    """(raw, default region, kind) the ways a rep types example number n of region."""
    cc = n.country_code
    nsn = pn.national_significant_number(n)
    national = pn.format_number(n, F.NATIONAL)
    intl = pn.format_number(n, F.INTERNATIONAL)
    e164 = pn.format_number(n, F.E164)
    meta = pn.PhoneMetadata.metadata_for_region(region)
    np = meta.national_prefix if meta is not None else None
    out = [
        (national, region, "national"),
        (pn.normalize_digits_only(national), region, "national_digits"),
        (national.replace(" ", "."), region, "national_dots"),
        (national.replace(" ", "-"), region, "national_dashes"),
        (national.translate(FULL_WIDTH), region, "national_fullwidth"),
        (intl, region, "international"),
        (intl, "ZZ", "international_no_region"),
        (e164, "ZZ", "e164"),
        (e164[1:], region, "international_no_plus"),
        (intl.replace(" ", "-"), "ZZ", "international_dashes"),
        (intl.replace(" ", ".").replace("+", "+ ", 1), "ZZ", "international_dots"),
        (intl.translate(FULL_WIDTH), "ZZ", "international_fullwidth"),
        (pn.format_out_of_country_calling_number(n, "US"), "US", "idd_011_from_us"),
        (pn.format_out_of_country_calling_number(n, "DE"), "DE", "idd_00_from_de"),
        (pn.format_out_of_country_calling_number(n, "GB"), "GB", "idd_00_from_gb"),
        (pn.format_out_of_country_calling_number(n, "BR"), "BR", "idd_from_br"),
    ]
    # Messy: labels and notes around the number, stray spaces, no separators at all.
    out += [
        ("Tel: " + national, region, "label_tel"),
        ("Mobile: " + intl, "ZZ", "label_mobile"),
        (national + " (office)", region, "note_after"),
        ("  " + intl.replace(" ", "  ") + " ", "ZZ", "extra_spaces"),
        (intl.replace(" ", "").replace("-", ""), "ZZ", "international_compact"),
        ("00" + e164[1:], "FR", "idd_00_compact_from_fr"),
        ("00 " + intl[1:], "US", "idd_00_from_us"),
        ("011 " + intl[1:], "FR", "idd_011_from_fr"),
    ]
    if np:
        out.append((f"+{cc} ({np}) {nsn}", "ZZ", "international_trunk_in_parens"))
        out.append((f"+{cc} {np}{nsn}", "ZZ", "international_with_trunk"))
    # Extensions: the value of the same rendering without the extension.
    ext = [
        (national + " ext. 123", region, "ext_dot", national),
        (national + " x45", region, "ext_x", national),
        (intl + " #7", "ZZ", "ext_hash", intl),
        (national + " ramal 12", region, "ext_ramal", national),
        (intl + " extension 9", "ZZ", "ext_word", intl),
    ]
    return out, ext


def main():
    if pn.__version__ != PINNED:
        sys.exit(f"phonenumbers {PINNED} required (have {pn.__version__}): the corpus must match the "
                 "metadata the Rust crate embeds")
    rows = []
    for region in sorted(pn.SUPPORTED_REGIONS):
        numbers = []
        for t in TYPES:
            n = pn.example_number_for_type(region, t)
            if n is not None and pn.format_number(n, F.E164) not in [pn.format_number(m, F.E164) for m in numbers]:
                numbers.append(n)
        for n in numbers:
            plain, ext = renderings(n, region)
            for raw, reg, kind in plain:
                rows.append((raw, reg, reference(raw, reg), kind))
            for raw, reg, kind, base in ext:
                rows.append((raw, reg, reference(base, reg), kind))
        bad = pn.invalid_example_number(region)
        if bad is not None:
            for raw, reg, kind in [
                (pn.format_number(bad, F.NATIONAL), region, "invalid_national"),
                (pn.format_number(bad, F.E164), "ZZ", "invalid_e164"),
            ]:
                rows.append((raw, reg, reference(raw, reg), kind))
    seen = set()
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases.tsv")
    with open(out, "w", encoding="utf-8") as f:
        f.write(f"# generated by generate.py with phonenumbers {pn.__version__}; do not edit\n")
        f.write("# raw\tregion\texpected\tkind\n")
        for raw, reg, exp, kind in rows:
            assert "\t" not in raw and "\n" not in raw
            if (raw, reg) in seen:
                continue
            seen.add((raw, reg))
            f.write(f"{raw}\t{reg}\t{exp}\t{kind}\n")
    print(f"{len(seen)} cases -> {out}")


if __name__ == "__main__":
    main()
