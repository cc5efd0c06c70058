"""The Greater London Authority payments export for the GLA tests: the real file where the workspace ships it
beside the project (`../shared/data/real/`, whose README asks that it not be copied into this repository), and
otherwise a file of the same shape built here, so a fresh clone runs the same assertions with nothing beside it.

The built file has what makes the real one hard (its README): no invoice number on about a fifth of the rows, no
vendor id on a third (the vendor's name instead) and no account code on a third, credits, vendor names with
commas (quoted), one date per payment and a `Source` naming the monthly file. Every test reads its expected
totals from the file itself, so either file is checked the same way.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "gla_spending_2008_2013.csv"
COLUMNS = ["ID", "VendorID", "Vendor", "AccountCode", "AccountDescription", "DocNo", "Amount", "Date", "Source"]
VENDORS = ["JILL BARTLETT & COMPANY LTD", "2CL COMMUNICATIONS LTD", "ACCOR SERVICES",
           "STAT OFFICE PARLIAMENTARY PRESS, THE", "LONDON AND QUADRANT HOUSING TRUST", "TRANSPORT FOR LONDON",
           "METROPOLITAN POLICE SERVICE", "CAPITA BUSINESS SERVICES LTD", "O'NEILL & PARTNERS", "ZURICH MUNICIPAL"]
ACCOUNTS = ["Catering Charges", "Postage", "Other External Services", "Other Supplies & Services",
            "HSG Grants to Registered Providers", "Consultancy", "Rent", "IT Software", "Training", "Travel"]


def gla_export(folder: Path, rows: int = 2_000) -> Path:
    """The real GLA export if the workspace has it, else a GLA-shaped file of `rows` payments in `folder`."""
    if SHARED.is_file():
        return SHARED
    rng = random.Random(2008)
    vendor_ids = {v: f"{18_000_000 + i:08d}" for i, v in enumerate(VENDORS)}
    account_codes = {a: f"{540_000 + 17 * i}" for i, a in enumerate(ACCOUNTS)}
    path = folder / "gla_spending_2008_2013.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(COLUMNS)
        start = date(2008, 4, 1)
        for i in range(rows):
            day = start + timedelta(days=i * 1_800 // rows)
            vendor, account = rng.choice(VENDORS), rng.choice(ACCOUNTS)
            amount = rng.uniform(250, 250_000) * (-1 if rng.random() < 0.04 else 1)
            out.writerow([
                i, "" if rng.random() < 0.32 else vendor_ids[vendor], vendor,
                "" if rng.random() < 0.31 else account_codes[account], account,
                "" if rng.random() < 0.22 else f"{1_900_000_000 + rng.randrange(10**8)}", f"{amount:.2f}",
                day.isoformat(), f"{i // 40}-{day:%B}_{day:%Y}".lower(),
            ])
    return path
