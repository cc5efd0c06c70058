"""Deterministic demo exports: two years of every export type, with stories a review would recognise.

The stories, each planted on purpose (docs/user-guide.md, The demo data):
- Logistics: procurement books solid negotiated savings while actual spend rose with volume.
- Raw Materials: most of the stock finance reads as slow-moving is safety stock procurement set.
- R&D cost center: on budget by invoices, over budget by committed purchase orders.
- Northwind Components: agreed 60-day terms, paid in about ten days.
Everything is vectorised with numpy/polars; a seed fixes every value.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

FIRST_MONTH = date(2024, 11, 1)
MONTHS = 24
LAST_DAY = date(2026, 10, 31)
CATEGORIES = {  # category: (gl_account, goods?, typical unit price)
    "IT Hardware": ("6100", True, 600.0),
    "Software": ("6110", False, 900.0),
    "Facilities": ("6200", False, 350.0),
    "Logistics": ("6300", False, 120.0),
    "Raw Materials": ("5000", True, 40.0),
    "Packaging": ("5100", True, 6.0),
    "Professional Services": ("6400", False, 1200.0),
    "MRO": ("5200", True, 25.0),
}
COST_CENTERS = ["OPS", "SALES", "IT", "FIN", "RND", "WH"]
LOCATIONS = {"Rotterdam DC": "EUR", "Lyon Plant": "EUR", "Leeds Plant": "GBP"}
EARLY_PAID = "S0007"
NAMES_A = ["North", "Blue", "Iron", "Green", "Silver", "Bright", "Delta", "Alpine", "Harbor", "Crest",
           "Summit", "Oak", "River", "Nova", "Atlas", "Prime", "Vertex", "Orion", "Falcon", "Cobalt"]
NAMES_B = ["wind", "field", "stone", "bridge", "line", "point", "gate", "works", "wave", "light", "ridge",
           "path", "forge", "port", "dale"]
NAMES_C = ["Components", "Logistics", "Supplies", "Services", "Industries", "Systems", "Trading", "Partners"]


def _plus_days(dates: pl.Series | pl.Expr, days: np.ndarray) -> pl.Series:
    return pl.select(dates + pl.duration(days=pl.Series(days))).to_series()


def _months() -> pl.Series:
    return pl.date_range(FIRST_MONTH, date(2026, 10, 1), "1mo", eager=True)


def _suppliers(rng: np.random.Generator, n: int) -> pl.DataFrame:
    idx = np.arange(n)
    names = [f"{NAMES_A[i % 20]}{NAMES_B[(i // 20) % 15]} {NAMES_C[(i * 7) % 8]}" for i in range(n)]
    cats = np.array(list(CATEGORIES))[rng.integers(0, len(CATEGORIES), n)]
    df = pl.DataFrame({
        "supplier_id": [f"S{i + 1:04d}" for i in idx],
        "supplier_name": names,
        "country": np.array(["NL", "FR", "DE", "GB", "US", "IT", "ES", "PL"])[rng.integers(0, 8, n)],
        "preferred": rng.random(n) < 0.4,
        "payment_terms_days": np.array([30, 45, 60, 90])[rng.integers(0, 4, n)],
        "category": cats,
    })
    df = df.with_columns(
        currency=pl.when(pl.col("country") == "US").then(pl.lit("USD"))
        .when(pl.col("country") == "GB").then(pl.lit("GBP")).otherwise(pl.lit("EUR")),
        # Price level of each supplier around its category's typical unit price.
        base_price=pl.Series(rng.lognormal(0, 0.35, n)) * pl.col("category").replace_strict(
            {c: v[2] for c, v in CATEGORIES.items()}, return_dtype=pl.Float64),
    )
    # The early-paid supplier of the story: 60-day terms, a sizeable EUR supplier in IT Hardware.
    early = pl.col("supplier_id") == EARLY_PAID
    return df.with_columns(
        supplier_name=pl.when(early).then(pl.lit("Northwind Components")).otherwise("supplier_name"),
        payment_terms_days=pl.when(early).then(60).otherwise("payment_terms_days"),
        category=pl.when(early).then(pl.lit("IT Hardware")).otherwise("category"),
        currency=pl.when(early).then(pl.lit("EUR")).otherwise("currency"),
        country=pl.when(early).then(pl.lit("NL")).otherwise("country"),
    )


def _contracts(rng: np.random.Generator, sup: pl.DataFrame) -> pl.DataFrame:
    has = sup.filter(pl.Series(rng.random(sup.height) < 0.6) | (pl.col("category") == "Logistics"))
    n = has.height
    start_offset = rng.integers(0, 300, n)
    logistics = (has["category"] == "Logistics").to_numpy()
    discount = np.where(logistics, rng.uniform(0.12, 0.18, n), rng.uniform(0.03, 0.12, n))
    return has.select(
        contract_id=pl.Series([f"C{i + 1:04d}" for i in range(n)]),
        supplier_id="supplier_id",
        category="category",
        item_id=pl.lit(None, pl.String),
        start_date=pl.lit(date(2024, 7, 1)) + pl.duration(days=pl.Series(start_offset)),
        end_date=pl.lit(FIRST_MONTH) + pl.duration(days=pl.Series(start_offset + rng.integers(365, 760, n))),
        baseline_unit_price=(pl.col("base_price") * 1.04).round(4),
        contract_unit_price=(pl.col("base_price") * 1.04 * pl.Series(1 - discount)).round(4),
        currency="currency",
        # Logistics contracts are volume rebates booked as cost avoidance against last year's rate card.
        savings_type=pl.when(pl.Series(logistics) | pl.Series(rng.random(n) < 0.25))
        .then(pl.lit("cost_avoidance")).otherwise(pl.lit("price_reduction")),
        payment_terms_days=pl.when(pl.col("supplier_id") == EARLY_PAID).then(60)
        .otherwise(pl.Series(np.array([30, 45, 60, 60, 90])[rng.integers(0, 5, n)])),
    )


def _items(rng: np.random.Generator, sup: pl.DataFrame) -> pl.DataFrame:
    goods = [c for c, v in CATEGORIES.items() if v[1]]
    rows = []
    for c in goods:  # a handful of categories, not rows
        k = 15
        rows.append(pl.DataFrame({
            "item_id": [f"{c[:3].strip().upper()}-{i + 1:03d}" for i in range(k)],
            "category": [c] * k,
            "unit_cost": rng.lognormal(0, 0.3, k) * CATEGORIES[c][2],
            "monthly_qty": rng.lognormal(np.log(800 / max(CATEGORIES[c][2], 1) ** 0.5), 0.4, k),
        }))
    return pl.concat(rows)


def _purchase_orders(rng: np.random.Generator, sup: pl.DataFrame, con: pl.DataFrame, items: pl.DataFrame
                     ) -> pl.DataFrame:
    months = _months()
    per_month = 650
    n_head = per_month * MONTHS
    weights = 1 / np.arange(1, sup.height + 1) ** 0.8
    weights /= weights.sum()
    sidx = rng.choice(sup.height, n_head, p=weights)
    sidx[rng.random(n_head) < 0.03] = sup["supplier_id"].to_list().index(EARLY_PAID)
    month_idx = np.repeat(np.arange(MONTHS), per_month)
    heads = pl.DataFrame({
        "po_id": [f"PO{100000 + i}" for i in range(n_head)],
        "sidx": sidx,
        "order_date": _plus_days(months.gather(month_idx), rng.integers(0, 28, n_head)),
        "cost_center": np.array(COST_CENTERS)[rng.integers(0, len(COST_CENTERS), n_head)],
        "month_idx": month_idx,
    })
    n_lines = rng.integers(1, 4, n_head)
    lines = heads.select(pl.all().repeat_by(pl.Series(n_lines)).explode())
    lines = lines.with_columns(po_line=pl.int_range(1, pl.len() + 1).over("po_id"))
    lines = lines.join(sup.with_row_index("sidx").with_columns(pl.col("sidx").cast(pl.Int64)), on="sidx")
    n = lines.height
    # Logistics volume grows a third in the second year: savings per unit, more spend in total.
    growth = np.where((lines["category"] == "Logistics").to_numpy() & (lines["month_idx"].to_numpy() >= 12),
                      1.35, 1.0)
    qty = np.maximum(1, np.round(rng.lognormal(2.5, 0.8, n) * growth))
    lines = lines.with_columns(quantity=pl.Series(qty))
    goods_items = items.group_by("category").agg(pl.col("item_id"))
    lines = lines.join(goods_items, on="category", how="left").with_columns(
        item_id=pl.col("item_id").list.get(pl.Series(rng.integers(0, 15, n)), null_on_oob=True)
    )
    lines = lines.join(con.select("contract_id", "supplier_id", "start_date", "end_date", "contract_unit_price"),
                       on="supplier_id", how="left")
    valid = (pl.col("order_date") >= pl.col("start_date")) & (pl.col("order_date") <= pl.col("end_date"))
    inflation = 1 + 0.04 * pl.col("month_idx") / 12
    noise = pl.Series(rng.uniform(0.97, 1.05, n))
    lines = lines.with_columns(
        unit_price=pl.when(valid).then(pl.col("contract_unit_price"))
        .otherwise(pl.col("base_price") * inflation * noise).round(4),
        contract_id=pl.when(pl.Series(rng.random(n) < 0.92)).then("contract_id"),
    )
    last2 = pl.col("month_idx") >= MONTHS - 2
    status = pl.when(pl.Series(rng.random(n) < 0.03)).then(pl.lit("cancelled")).when(last2).then(pl.lit("open")) \
        .otherwise(pl.lit("closed"))
    lines = lines.with_columns(status=status)
    # R&D commits heavily in the last quarter (equipment for a new lab), none of it invoiced yet.
    rnd = pl.DataFrame({
        "po_id": [f"PO9{i:05d}" for i in range(30)],
        "po_line": [1] * 30,
        "supplier_id": [f"S{4 + i % 5:04d}" for i in range(30)],
        "contract_id": [None] * 30,
        "item_id": [None] * 30,
        "category": ["IT Hardware"] * 30,
        "cost_center": ["RND"] * 30,
        "order_date": [date(2026, 8 + i % 3, 5 + i % 20) for i in range(30)],
        "quantity": [20.0] * 30,
        "unit_price": np.round(rng.uniform(1500, 2500, 30), 4),
        "currency": ["EUR"] * 30,
        "status": ["open"] * 30,
    }, schema_overrides={"contract_id": pl.String, "item_id": pl.String})
    cols = list(rnd.columns)
    return pl.concat([lines.select(cols), rnd]).sort("po_id", "po_line")


def _invoices(rng: np.random.Generator, po: pl.DataFrame, sup: pl.DataFrame, con: pl.DataFrame) -> pl.DataFrame:
    live = po.filter((pl.col("status") == "closed") | ((pl.col("status") == "open") & ~pl.col("po_id").str.starts_with("PO9")))
    n = live.height
    terms = live.join(con.select("contract_id", pl.col("payment_terms_days").alias("ct")), on="contract_id",
                      how="left").join(sup.select("supplier_id", pl.col("payment_terms_days").alias("st")),
                                       on="supplier_id", how="left")
    terms = terms.with_columns(terms=pl.coalesce("ct", "st"))
    price_diff = np.where(rng.random(n) < 0.1, rng.uniform(-0.02, 0.04, n), 0.0)
    inv = terms.with_columns(
        invoice_date=pl.col("order_date") + pl.duration(days=pl.Series(rng.integers(3, 36, n))),
        amount=(pl.col("quantity") * pl.col("unit_price") * pl.Series(1 + price_diff)).round(2),
    ).filter(pl.col("invoice_date") <= LAST_DAY)
    return _payments(rng, inv)


def _payments(rng: np.random.Generator, inv: pl.DataFrame) -> pl.DataFrame:
    n = inv.height
    late = rng.random(n) < 0.15
    delta = np.where(late, rng.integers(10, 35, n), rng.integers(-6, 4, n))
    paid = pl.col("invoice_date") + pl.duration(days=pl.col("terms") + pl.Series(delta))
    early = pl.col("invoice_date") + pl.duration(days=pl.Series(rng.integers(8, 13, n)))
    inv = inv.with_columns(
        due_date=pl.col("invoice_date") + pl.duration(days=pl.col("terms")),
        paid_date=pl.when(pl.col("supplier_id") == EARLY_PAID).then(early).otherwise(paid),
    ).with_columns(paid_date=pl.when(pl.col("paid_date") <= LAST_DAY).then("paid_date"))
    return inv


def _non_po_invoices(rng: np.random.Generator, sup: pl.DataFrame, n: int) -> pl.DataFrame:
    services = sup.filter(pl.col("category").is_in(["Facilities", "Professional Services", "Software"]))
    pick = services.sample(n, with_replacement=True, seed=int(rng.integers(0, 2**31)))
    day = rng.integers(0, (LAST_DAY - FIRST_MONTH).days, n)
    inv = pick.select(
        "supplier_id", "category", "currency", pl.col("payment_terms_days").alias("terms"),
        po_id=pl.lit(None, pl.String), po_line=pl.lit(None, pl.Int64), item_id=pl.lit(None, pl.String),
        cost_center=pl.Series(np.array(COST_CENTERS)[rng.integers(0, len(COST_CENTERS), n)]),
        invoice_date=pl.lit(FIRST_MONTH) + pl.duration(days=pl.Series(day)),
        quantity=pl.lit(None, pl.Float64),
        amount=pl.Series(np.round(rng.lognormal(7.2, 0.9, n), 2)),
    )
    return _payments(rng, inv)


def _finish_invoices(rng: np.random.Generator, po_inv: pl.DataFrame, non_po: pl.DataFrame) -> pl.DataFrame:
    cols = ["supplier_id", "po_id", "po_line", "item_id", "category", "cost_center", "invoice_date", "due_date",
            "paid_date", "quantity", "amount", "currency"]
    allinv = pl.concat([po_inv.select(cols), non_po.select(cols)]).sort("invoice_date")
    # Credit notes: part of an earlier line credited back two weeks later.
    credit = allinv.filter(pl.Series(rng.random(allinv.height) < 0.015)).with_columns(
        invoice_date=pl.col("invoice_date") + pl.duration(days=14),
        due_date=pl.col("invoice_date") + pl.duration(days=14),
        paid_date=pl.lit(None, pl.Date),
        amount=-(pl.col("amount") * 0.3).round(2),
    ).filter(pl.col("invoice_date") <= LAST_DAY)
    # A few lines from a supplier missing from the master data: a data-quality finding to follow up.
    stray = allinv.filter(pl.col("po_id").is_null()).head(3).with_columns(supplier_id=pl.lit("S9999"))
    out = pl.concat([allinv, credit, stray]).sort("invoice_date")
    return out.with_row_index("n").with_columns(
        invoice_id=pl.format("INV{}", pl.col("n") + 200000),
        invoice_line=pl.lit(1, pl.Int64),
        gl_account=pl.col("category").replace_strict({c: v[0] for c, v in CATEGORIES.items()}),
    ).select("invoice_id", "invoice_line", "supplier_id", "po_id", "po_line", "item_id", "category",
             "cost_center", "gl_account", "invoice_date", "due_date", "paid_date", "quantity", "amount",
             "currency")


def _fx(rng: np.random.Generator) -> pl.DataFrame:
    months = _months()
    usd = 0.92 + np.cumsum(rng.normal(0, 0.008, MONTHS))
    gbp = 1.17 + np.cumsum(rng.normal(0, 0.006, MONTHS))
    return pl.concat([
        pl.DataFrame({"period": months, "currency": "USD", "rate_to_reporting": np.round(usd, 6)}),
        pl.DataFrame({"period": months, "currency": "GBP", "rate_to_reporting": np.round(gbp, 6)}),
    ])


def _budgets(rng: np.random.Generator, inv: pl.DataFrame, fx: pl.DataFrame) -> pl.DataFrame:
    eur = inv.with_columns(period=pl.col("invoice_date").dt.truncate("1mo")).join(
        fx, on=["period", "currency"], how="left"
    ).with_columns(eur=pl.col("amount") * pl.col("rate_to_reporting").fill_null(1.0))
    actual = eur.group_by("period", "cost_center", "category").agg(pl.col("eur").sum())
    factor = pl.when(pl.col("cost_center") == "RND").then(pl.lit(1.02)).otherwise(
        pl.Series(rng.uniform(0.9, 1.12, actual.height)))
    return actual.sort("period", "cost_center", "category").with_columns(
        budget_amount=((pl.col("eur") * factor) / 100).round(0).clip(0) * 100,
        currency=pl.lit("EUR"),
    ).select(pl.col("period").alias("fiscal_period"), "cost_center", "category", "budget_amount", "currency")


def _stock(rng: np.random.Generator, items: pl.DataFrame, fx: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    months = _months()
    grid = items.join(pl.DataFrame({"location": list(LOCATIONS)}), how="cross").join(
        pl.DataFrame({"period": months}), how="cross")
    n = grid.height
    raw = grid["category"] == "Raw Materials"
    # Raw Materials carry ~2.5 months of safety stock by design; the rest about two weeks.
    safety_months = np.where(raw.to_numpy(), 2.5, 0.5)
    grid = grid.with_columns(
        currency=pl.col("location").replace_strict(LOCATIONS),
        qty=pl.col("monthly_qty") * pl.Series(rng.uniform(0.8, 1.2, n)),
        safety=pl.col("monthly_qty") * pl.Series(safety_months),
    ).with_columns(
        # Leeds keeps its books in GBP: convert the EUR unit cost with the month's rate.
        unit_cost_local=pl.when(pl.col("currency") == "GBP").then(pl.col("unit_cost") / 1.17)
        .otherwise("unit_cost").round(4),
    )
    consumption = grid.select(
        "period", "item_id", "location", quantity=pl.col("qty").round(2),
        value=(pl.col("qty").round(2) * pl.col("unit_cost_local")).round(2), currency="currency")
    snaps = []
    for day_expr in (pl.col("period") + pl.duration(days=14), pl.col("period").dt.month_end()):
        on_hand = pl.col("safety") * pl.Series(rng.uniform(1.0, 1.25, n)) + pl.col("qty") * pl.Series(
            rng.uniform(0.1, 0.5, n))
        snaps.append(grid.select(
            snapshot_date=day_expr, item_id="item_id", location="location",
            on_hand_qty=on_hand.round(2), safety_stock_qty=pl.col("safety").round(2),
            unit_cost=pl.col("unit_cost_local"), currency="currency"))
    return pl.concat(snaps).sort("snapshot_date", "item_id", "location"), consumption


# Market price indices (generated, not real series: docs/kpi-definitions.md, Prices): the drift of each a month, and the
# categories that follow it. Freight falls over the two years: much of Logistics' negotiated savings is
# the market's doing.
MARKET = {  # index: (monthly drift, categories)
    "PPI Electronics": (0.002, ["IT Hardware"]),
    "PPI Freight": (-0.006, ["Logistics"]),
    "PPI Metals & Chemicals": (0.005, ["Raw Materials"]),
    "PPI Paper & Packaging": (0.003, ["Packaging"]),
    "PPI Industrial Supplies": (0.0025, ["MRO"]),
    "Services Price Index": (0.003, ["Software", "Facilities", "Professional Services"]),
}


def _market(seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The price_indices series (100 in the first month) and the category_index mapping, from their own
    generator so that the other exports stay as they were."""
    rng = np.random.default_rng(seed + 1)
    months = _months()
    frames = []
    for name, (drift, _) in MARKET.items():
        steps = np.concatenate([[0.0], drift + rng.normal(0, 0.004, MONTHS - 1)])
        frames.append(pl.DataFrame({"period": months.dt.strftime("%Y-%m"), "index_name": name,
                                    "value": np.round(100 * np.exp(np.cumsum(steps)), 2)}))
    mapping = pl.DataFrame([{"category": c, "index_name": name} for name, (_, cats) in MARKET.items() for c in cats])
    return pl.concat(frames), mapping


def generate(seed: int = 7, n_suppliers: int = 300) -> dict[str, pl.DataFrame]:
    """All the demo exports as frames, in the contract's canonical columns."""
    rng = np.random.default_rng(seed)
    sup = _suppliers(rng, n_suppliers)
    con = _contracts(rng, sup)
    items = _items(rng, sup)
    po = _purchase_orders(rng, sup, con, items)
    fx = _fx(rng)
    inv = _finish_invoices(rng, _invoices(rng, po, sup, con), _non_po_invoices(rng, sup, 4000))
    inventory, consumption = _stock(rng, items, fx)
    period = pl.col("period").dt.strftime("%Y-%m")
    return {
        "fx_rates": fx.with_columns(period=period),
        "suppliers": sup.select("supplier_id", "supplier_name", "country", "preferred", "payment_terms_days"),
        "contracts": con,
        "purchase_orders": po,
        "invoices": inv,
        "budgets": _budgets(rng, inv, fx).with_columns(fiscal_period=pl.col("fiscal_period").dt.strftime("%Y-%m")),
        "inventory": inventory,
        "consumption": consumption.with_columns(period=period),
        # the index before the mapping that names it
        **dict(zip(("price_indices", "category_index"), _market(seed), strict=True)),
    }


def write_demo(folder: Path, seed: int = 7, n_suppliers: int = 300) -> list[Path]:
    """Write the demo exports in the three accepted formats; return the files in a sensible load order."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for name, df in generate(seed, n_suppliers).items():
        if name == "suppliers":
            path = folder / "suppliers.xlsx"
            df.write_excel(path, worksheet="suppliers")
        elif name == "fx_rates":
            path = folder / "fx_rates.parquet"
            df.write_parquet(path)
        else:
            path = folder / f"{name}.csv"
            df.write_csv(path)
        files.append(path)
    return files
