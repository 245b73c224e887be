#!/usr/bin/env python3
"""Generate the phone conformance corpus: libphonenumber's own example numbers for every
region, rendered the ways people type them, with the E.164 (or `invalid`) that Python's
`phonenumbers` (a faithful libphonenumber port) gives through the same field pipeline
crmsync uses (parenthesised notes dropped, retry as +digits, 00/011 as IDD, trunk 8 → 7 for
numbers typed domestically, MX 521 and BR 9th-digit repairs). A rendering with an extension
expects the value of the same rendering without it.

    pip install -r tests/data/phone/requirements.txt   # phonenumbers 9.0.42: the metadata rlibphonenumber 2.2.15 embeds
    python3 tests/data/phone/generate.py > tests/data/phone/corpus.tsv

Each line: raw<TAB>region<TAB>expected. The file is committed; tests read it.
"""
import re
import sys

import phonenumbers as pn
from phonenumbers import PhoneNumberFormat as F, PhoneNumberType as T

assert pn.__version__ == "9.0.42", pn.__version__

TYPES = [T.FIXED_LINE, T.MOBILE, T.TOLL_FREE, T.PREMIUM_RATE, T.SHARED_COST, T.VOIP, T.PERSONAL_NUMBER, T.PAGER, T.UAN, T.VOICEMAIL]
NOTE = re.compile(r"\([^()]*[^\W\d_][^()]*\)")
FULLWIDTH = str.maketrans("0123456789+", "０１２３４５６７８９＋")


def e164(raw, region):
    def valid(r, reg):
        try:
            n = pn.parse(r, reg)
        except pn.NumberParseException:
            return None
        return pn.format_number(n, F.E164) if pn.is_valid_number(n) else None

    raw = NOTE.sub(" ", raw)
    reg = None if region == "ZZ" else region
    got = valid(raw, reg)
    if got:
        return got
    d = re.sub(r"\D", "", raw.translate(str.maketrans("０１２３４５６７８９", "0123456789")))
    retries = ["+" + d]
    plain = raw.strip().translate(str.maketrans("０１２３４５６７８９＋", "0123456789+"))
    if not plain.startswith("+"):
        for idd in ("00", "011"):
            if d.startswith(idd):
                retries.append("+" + d[len(idd):])
    if len(d) == 11 and d.startswith("8") and re.match(r"^[\s(]*8", plain):
        retries.append("+7" + d[1:])
    if d.startswith("521") and len(d) == 13:
        retries.append("+52" + d[3:])
    br = d if (region == "BR" and len(d) == 10) else (d[2:] if d.startswith("55") and len(d) == 12 else None)
    if br and br[2] in "6789":
        retries.append("+55" + br[:2] + "9" + br[2:])
    for r in retries:
        got = valid(r, None)
        if got:
            return got
    return "invalid"


def renderings(n, region):
    nat = pn.format_number(n, F.NATIONAL)
    intl = pn.format_number(n, F.INTERNATIONAL)
    cc = str(n.country_code)
    nsn = pn.national_significant_number(n)
    yield pn.format_number(n, F.E164), "ZZ"
    yield intl, "ZZ"
    yield intl, "US"
    yield nat, region
    yield re.sub(r"\D", "", nat), region
    yield ".".join(re.findall(r"\d+", nat)), region
    yield nat.translate(FULLWIDTH), region
    yield nat + " ext. 123", region
    yield intl + " x 45", "ZZ"
    yield "011 " + cc + " " + nsn, "US"
    yield "00" + cc + nsn, "DE"
    yield cc + nsn, "US"  # country code typed without '+'
    meta = pn.PhoneMetadata.metadata_for_region(region)
    if meta is not None and meta.national_prefix == "0":
        yield "+" + cc + " (0)" + nsn, "ZZ"
    if meta is not None and meta.national_prefix:
        yield "+" + cc + " " + meta.national_prefix + nsn, "ZZ"
    yield nat.replace(" ", "-"), region
    yield intl.replace(" ", "-"), "ZZ"
    yield intl.replace(" ", ".").replace("+", "+ ", 1), "ZZ"
    yield intl.translate(FULLWIDTH), "ZZ"
    yield pn.format_out_of_country_calling_number(n, "GB"), "GB"
    yield pn.format_out_of_country_calling_number(n, "BR"), "BR"
    yield pn.format_out_of_country_calling_number(n, "JP"), "JP"
    # Messy: labels and notes around the number, stray spaces, IDD of another region.
    yield "Tel: " + nat, region
    yield "Mobile: " + intl, "ZZ"
    yield nat + " (office)", region
    yield "  " + intl.replace(" ", "  ") + " ", "ZZ"
    yield "00" + cc + nsn, "FR"
    yield "00 " + intl[1:], "US"
    yield "011 " + intl[1:], "FR"


def with_extensions(n, region):
    """(raw, region, the same rendering without its extension)."""
    nat = pn.format_number(n, F.NATIONAL)
    intl = pn.format_number(n, F.INTERNATIONAL)
    yield nat + " ramal 12", region, nat
    yield intl + " #7", "ZZ", intl
    yield intl + " extension 9", "ZZ", intl
    yield nat + " Ext: 401", region, nat


def main():
    out = sys.stdout
    seen = set()
    for region in sorted(pn.SUPPORTED_REGIONS):
        for t in TYPES:
            n = pn.example_number_for_type(region, t)
            if n is None:
                continue
            for raw, reg in renderings(n, region):
                key = (raw, reg)
                if key in seen or "\t" in raw:
                    continue
                seen.add(key)
                out.write(f"{raw}\t{reg}\t{e164(raw, reg)}\n")
            for raw, reg, base in with_extensions(n, region):
                if (raw, reg) not in seen:
                    seen.add((raw, reg))
                    out.write(f"{raw}\t{reg}\t{e164(base, reg)}\n")
        # libphonenumber's invalid example: must stay invalid or be read as it says.
        bad = pn.invalid_example_number(region)
        if bad is not None:
            for raw, reg in [(pn.format_number(bad, F.NATIONAL), region), (pn.format_number(bad, F.E164), "ZZ")]:
                if (raw, reg) not in seen:
                    seen.add((raw, reg))
                    out.write(f"{raw}\t{reg}\t{e164(raw, reg)}\n")
    # Inputs that must stay invalid.
    for raw, reg in [("+52 1 55 1234 5678", "ZZ"), ("(11) 8765-4321", "BR"), ("+55 11 8765-4321", "US"), ("12", "BR"), ("020 7946 0958", "US"), ("+1 555 0100", "ZZ"), ("00000000", "IT")]:
        out.write(f"{raw}\t{reg}\t{e164(raw, reg)}\n")


if __name__ == "__main__":
    main()
