"""The demo's budgets and approval flow: requisitions behind the purchase orders, the approval events of
requisitions, orders and invoices, goods receipts, when each order was approved and issued, and the budget of
the rest of the fiscal year. Drawn from a generator of their own, after the other exports, so every number
those exports give stays as it was.

The stories, each planted on purpose (docs/budgets.md, The demo):
- R&D's IT Hardware budget still has room to year end by finance's view; the pending lab requisitions take
  all of it and more (procurement counts pending requests).
- IT approvals stuck at one step for weeks: the IT cost center's requests wait at the architecture review
  (`it_review`), and the ones pending now have waited three to seven weeks there.
- Professional Services: most of its invoices need a person (accounts payable escalates them to the budget
  owner); most other PO invoices are matched and approved by the system.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import polars as pl

OFFSET = "+01:00"  # the demo's people work in Central European time (written with its offset)
NOW = datetime(2026, 10, 31, 18, 0)  # the demo's last day, local time
REQUESTERS = 4  # people per cost center who ask
IT_STEP, LAB_CATEGORY = "it_review", "IT Hardware"
BIG = 20_000.0  # a request above this also needs the finance controller


def _stamp(col: str) -> pl.Expr:
    """Local times as the export writes them: ISO with the offset."""
    return pl.col(col).dt.strftime("%Y-%m-%dT%H:%M:%S") + OFFSET


def _hours(rng: np.random.Generator, n: int, lo: float, hi: float) -> pl.Series:
    return pl.Series(rng.uniform(lo, hi, n) * 3600 * 1e6).cast(pl.Int64).cast(pl.Duration("us"))


def _order_times(rng: np.random.Generator, po: pl.DataFrame) -> pl.DataFrame:
    """Per PO: when it was issued (its order date, in office hours) and approved (1 h to 2 days before)."""
    heads = po.group_by("po_id").agg(pl.col("order_date").first(), pl.col("cost_center").first(),
                                     pl.col("category").first(), pl.col("status").first()).sort("po_id")
    n = heads.height
    issued = pl.col("order_date").cast(pl.Datetime("us")) + _hours(rng, n, 8, 17)
    heads = heads.with_columns(issued_at=issued)
    return heads.with_columns(approved_at=pl.col("issued_at") - _hours(rng, n, 1, 48))


def _people(prefix: str, cc: pl.Expr, k: pl.Expr) -> pl.Expr:
    return pl.lit(prefix) + cc.str.to_lowercase() + pl.lit("-") + k.cast(pl.String)


def _steps(rng: np.random.Generator, reqs: pl.DataFrame) -> pl.DataFrame:
    """The approval events of requisitions, from each one's shape (rework, delegation, the IT review, the
    finance step) and the waits at each step; `final` is when the last approval happened (None: still pending,
    ending with the event of `stuck_after`)."""
    n = reqs.height
    r = reqs.with_columns(
        rework=pl.Series(rng.random(n) < 0.08), delegated=pl.Series(rng.random(n) < 0.04),
        w_submit=_hours(rng, n, 0, 0), w_return=_hours(rng, n, 4, 60), w_fix=_hours(rng, n, 6, 72),
        w_manager=_hours(rng, n, 1, 70), w_delegate=_hours(rng, n, 1, 24),
        # IT's architecture review: 6 to 25 days; the finance controller: an hour to four days
        w_it=_hours(rng, n, 6 * 24, 25 * 24), w_finance=_hours(rng, n, 1, 96),
    )
    req, mgr = _people("req-", pl.col("cost_center"), pl.col("who")), _people("mgr-", pl.col("cost_center"), pl.lit(1))
    dep = _people("mgr-", pl.col("cost_center"), pl.lit(2))
    it = pl.col("cost_center") == "IT"
    big = pl.col("total") > BIG
    # (order, present, step, event, actor, role, on_behalf_of, wait before it)
    shapes = [
        (1, pl.lit(True), "manager", "submitted", req, "requester", None, "w_submit"),
        (2, pl.col("rework"), "manager", "returned", mgr, "manager", None, "w_return"),
        (3, pl.col("rework"), "manager", "submitted", req, "requester", None, "w_fix"),
        (4, pl.col("delegated"), "manager", "delegated", mgr, "manager", None, "w_delegate"),
        (5, pl.lit(True), "manager", "approved", pl.when(pl.col("delegated")).then(dep).otherwise(mgr), "manager",
         pl.when(pl.col("delegated")).then(mgr), "w_manager"),
        (6, it, IT_STEP, "approved", pl.lit("arch-1"), "it_architect", None, "w_it"),
        (7, big, "finance", "approved", pl.lit("ctrl-1"), "finance_controller", None, "w_finance"),
    ]
    parts = []
    for order, present, step, event, actor, role, behalf, wait in shapes:
        parts.append(r.filter(present).select(
            "req_id", "cost_center", "total", "final", "rejected", "stuck_after",
            pl.lit(order).alias("k"), pl.lit(step).alias("step"), pl.lit(event).alias("event"),
            actor.alias("actor"), pl.lit(role).alias("actor_role"),
            (behalf if behalf is not None else pl.lit(None, pl.String)).alias("on_behalf_of"),
            pl.col(wait).alias("wait")))
    ev = pl.concat(parts).sort("req_id", "k")
    # a rejected request ends at its manager: "rejected" instead of "approved", nothing after
    ev = ev.filter(~(pl.col("rejected") & (pl.col("k") > 5))).with_columns(
        event=pl.when(pl.col("rejected") & (pl.col("k") == 5)).then(pl.lit("rejected")).otherwise("event"))
    # a pending request stops after the event it waits behind (its last step not taken yet)
    ev = ev.filter(pl.col("stuck_after").is_null() | (pl.col("k") <= pl.col("stuck_after")))
    ev = ev.with_columns(elapsed=pl.col("wait").cum_sum().over("req_id"))
    ev = ev.with_columns(total_wait=pl.col("elapsed").max().over("req_id"))
    # the last event falls at `final`: everything before it, its waits earlier
    return ev.with_columns(event_at=pl.col("final") - pl.col("total_wait") + pl.col("elapsed"),
                           seq=pl.col("k").rank("ordinal").over("req_id").cast(pl.Int64))


def _ordered(rng: np.random.Generator, po: pl.DataFrame, times: pl.DataFrame, fx: pl.DataFrame) -> pl.DataFrame:
    """A requisition behind every purchase order: its lines are the PO's lines, as estimated in euros when asked
    for (at the order month's rate)."""
    rates = fx.select(pl.col("period").alias("month"), "currency", "rate_to_reporting")
    lines = (po.join(times.select("po_id", "approved_at"), on="po_id")
             .with_columns(req_id=pl.lit("REQ") + pl.col("po_id").str.slice(2),
                           month=pl.col("order_date").dt.truncate("1mo"))
             .join(rates, on=["month", "currency"], how="left"))
    n = lines.height
    return lines.with_columns(
        req_line=pl.col("po_line"),
        amount=(pl.col("quantity") * pl.col("unit_price") * pl.col("rate_to_reporting").fill_null(1.0)
                * pl.Series(rng.uniform(0.95, 1.05, n))).round(2),
        currency=pl.lit("EUR"),
        status=pl.lit("ordered"),
    )


def _open(rng: np.random.Generator, ccs: list[str], cats: list[str], n: int, status: str,
          first: datetime, last: datetime, prefix: str) -> pl.DataFrame:
    span = (last - first).total_seconds()
    return pl.DataFrame({
        "req_id": [f"{prefix}{i:05d}" for i in range(n)],
        "cost_center": np.array(ccs)[rng.integers(0, len(ccs), n)],
        "category": np.array(cats)[rng.integers(0, len(cats), n)],
        "amount": np.round(rng.lognormal(8.3, 0.9, n), 2),
        "t": [first + timedelta(seconds=float(s)) for s in rng.uniform(0, span, n)],
        "status": [status] * n,
    })


def requisitions_and_events(rng: np.random.Generator, po: pl.DataFrame, fx: pl.DataFrame, categories: list[str],
                            cost_centers: list[str]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(requisitions, their approval events, the PO times): ordered ones behind every PO, and the open ones."""
    times = _order_times(rng, po)
    ordered = _ordered(rng, po, times, fx)
    heads = ordered.group_by("req_id").agg(
        pl.col("cost_center").first(), pl.col("approved_at").first().alias("po_approved"),
        pl.col("amount").sum().alias("total")).sort("req_id")
    # the request was approved 4 hours to 6 days before its PO
    heads = heads.with_columns(final=pl.col("po_approved") - _hours(rng, heads.height, 4, 144),
                               rejected=pl.lit(False), stuck_after=pl.lit(None, pl.Int32))
    # open requests: approved not yet ordered, pending, rejected, withdrawn, drafts
    start, end = datetime(2024, 11, 4, 9), NOW - timedelta(days=1)
    approved = _open(rng, cost_centers, categories, 120, "approved", datetime(2026, 9, 20, 9), end, "REQA")
    pending = _open(rng, cost_centers, categories, 150, "pending", datetime(2026, 10, 1, 9), end, "REQP")
    # IT's requests stuck at the architecture review: approved by their manager three to seven weeks ago
    stuck = _open(rng, ["IT"], categories, 45, "pending", datetime(2026, 9, 10, 9), datetime(2026, 10, 10, 9), "REQS")
    rejected = _open(rng, cost_centers, categories, 620, "rejected", start, end, "REQX")
    withdrawn = _open(rng, cost_centers, categories, 140, "cancelled", start, end - timedelta(days=2), "REQW")
    drafts = _open(rng, cost_centers, categories, 25, "draft", datetime(2026, 10, 15, 9), end, "REQD")
    # R&D's new lab: equipment requested in October, waiting for the finance controller
    lab = pl.DataFrame({"req_id": [f"REQL{i:05d}" for i in range(14)], "cost_center": ["RND"] * 14,
                        "category": [LAB_CATEGORY] * 14, "amount": np.round(rng.uniform(38_000, 52_000, 14), 2),
                        "t": [datetime(2026, 10, 6 + i, 10, 15) for i in range(14)], "status": ["pending"] * 14})
    opened = pl.concat([approved, pending, stuck, rejected, withdrawn, drafts, lab])
    opened = opened.with_columns(
        total=pl.col("amount"),
        # the last thing that happened to it: its approval, rejection, or the event it waits behind
        final=pl.col("t"),
        rejected=pl.col("status") == "rejected",
        # pending: waiting at the manager (after the submission), at IT's review (stuck), at finance (the lab);
        # withdrawn: submitted (then withdrawn, below)
        stuck_after=pl.when(pl.col("req_id").str.starts_with("REQS")).then(5)
        .when(pl.col("req_id").str.starts_with("REQL")).then(5)
        .when(pl.col("status").is_in(["pending", "cancelled"])).then(1).otherwise(None).cast(pl.Int32),
    )
    flows = pl.concat([heads.select("req_id", "cost_center", "total", "final", "rejected", "stuck_after"),
                       opened.filter(pl.col("status") != "draft").select(
                           "req_id", "cost_center", "total", "final", "rejected", "stuck_after")])
    who = pl.Series(rng.integers(1, REQUESTERS + 1, flows.height))
    events = _steps(rng, flows.with_columns(who=who))
    # a withdrawn request: submitted, then withdrawn by its requester a day or two later
    gone = events.filter(pl.col("req_id").str.starts_with("REQW") & (pl.col("k") == 1))
    withdrawn_ev = gone.with_columns(k=pl.lit(9), seq=pl.lit(2, pl.Int64), event=pl.lit("withdrawn"),
                                     event_at=pl.col("event_at") + _hours(rng, gone.height, 20, 50))
    events = pl.concat([events, withdrawn_ev.select(events.columns)])
    first_last = events.group_by("req_id").agg(submitted=pl.col("event_at").min(),
                                               decided=pl.col("event_at").max())
    req_lines = pl.concat([
        ordered.select("req_id", "req_line", "cost_center", "category", "supplier_id", "amount", "currency",
                       "status", "po_id", "po_line"),
        opened.select("req_id", pl.lit(1, pl.Int64).alias("req_line"), "cost_center", "category",
                      pl.lit(None, pl.String).alias("supplier_id"), "amount", pl.lit("EUR").alias("currency"),
                      "status", pl.lit(None, pl.String).alias("po_id"), pl.lit(None, pl.Int64).alias("po_line")),
    ]).join(first_last, on="req_id", how="left")
    req_lines = req_lines.with_columns(
        requester=_people("req-", pl.col("cost_center"), pl.lit(1)),
        approved_at=pl.when(pl.col("status").is_in(["approved", "ordered"])).then("decided"),
    ).join(events.filter(pl.col("k") == 1).select("req_id", pl.col("actor").alias("asked_by")), on="req_id",
           how="left").with_columns(requester=pl.coalesce("asked_by", "requester"))
    requisitions = req_lines.sort("req_id", "req_line").select(
        "req_id", "req_line", "requester", "cost_center", "category", "supplier_id", "amount", "currency", "status",
        _stamp("submitted").alias("submitted_at"), _stamp("approved_at").alias("approved_at"), "po_id", "po_line")
    req_events = events.select(pl.lit("requisition").alias("document_type"), pl.col("req_id").alias("document_id"),
                               "seq", "step", "event", "actor", "actor_role", "on_behalf_of", "event_at")
    return requisitions, req_events, times


def po_events(rng: np.random.Generator, times: pl.DataFrame) -> pl.DataFrame:
    """Each PO submitted by its buyer and approved by the purchasing manager (the PO's approved_at)."""
    n = times.height
    submitted = times.select(pl.lit("purchase_order").alias("document_type"), pl.col("po_id").alias("document_id"),
                             pl.lit(1, pl.Int64).alias("seq"), pl.lit("purchasing").alias("step"),
                             pl.lit("submitted").alias("event"), pl.lit("buyer-1").alias("actor"),
                             pl.lit("buyer").alias("actor_role"), pl.lit(None, pl.String).alias("on_behalf_of"),
                             (pl.col("approved_at") - _hours(rng, n, 1, 30)).alias("event_at"))
    approved = times.select(pl.lit("purchase_order").alias("document_type"), pl.col("po_id").alias("document_id"),
                            pl.lit(2, pl.Int64).alias("seq"), pl.lit("purchasing").alias("step"),
                            pl.lit("approved").alias("event"), pl.lit("pm-1").alias("actor"),
                            pl.lit("purchasing_manager").alias("actor_role"),
                            pl.lit(None, pl.String).alias("on_behalf_of"), pl.col("approved_at").alias("event_at"))
    return pl.concat([submitted, approved])


TOUCHY = "Professional Services"  # the category where most invoices need a person


def invoice_events(rng: np.random.Generator, inv: pl.DataFrame, po: pl.DataFrame) -> pl.DataFrame:
    """Each invoice captured by the system, then: matched and approved by the system (most PO invoices), or
    approved by its budget owner (non-PO invoices, some PO invoices), or escalated or returned by accounts
    payable first (a price that does not match the order; most of Professional Services)."""
    priced = inv.join(po.select("po_id", "po_line", (pl.col("quantity") * pl.col("unit_price")).alias("ordered")),
                      on=["po_id", "po_line"], how="left")
    n = priced.height
    u = pl.Series(rng.random(n))
    mismatch = (pl.col("ordered").is_not_null() & ((pl.col("amount") - pl.col("ordered")).abs()
                                                   > 0.01 * pl.col("ordered")))
    has_po = pl.col("po_id").is_not_null()
    kind = (pl.when(has_po & (pl.col("category") == TOUCHY) & (u < 0.8)).then(pl.lit("ap"))
            .when(has_po & mismatch).then(pl.lit("ap"))
            .when(has_po & (u < 0.05)).then(pl.lit("ap"))
            .when(has_po & (u < 0.15)).then(pl.lit("owner"))
            .when(has_po).then(pl.lit("system"))
            .when(u < 0.2).then(pl.lit("ap"))
            .otherwise(pl.lit("owner")))
    priced = priced.with_columns(kind=kind, captured=pl.col("invoice_date").cast(pl.Datetime("us"))
                                 + _hours(rng, n, 7, 10))
    head = ["document_type", "document_id", "seq", "step", "event", "actor", "actor_role", "on_behalf_of",
            "event_at"]

    def event(frame: pl.DataFrame, seq: int, step: str, name: str, actor: str, role: str, at: pl.Expr
              ) -> pl.DataFrame:
        return frame.select(pl.lit("invoice").alias("document_type"), pl.col("invoice_id").alias("document_id"),
                            pl.lit(seq, pl.Int64).alias("seq"), pl.lit(step).alias("step"),
                            pl.lit(name).alias("event"), pl.lit(actor).alias("actor"), pl.lit(role).alias("actor_role"),
                            pl.lit(None, pl.String).alias("on_behalf_of"), at.alias("event_at"))

    system, owner, ap = (priced.filter(pl.col("kind") == k) for k in ("system", "owner", "ap"))
    out = [event(priced, 1, "capture", "submitted", "system", "system", pl.col("captured")),
           event(system, 2, "match", "approved", "system", "system", pl.col("captured") + _hours(rng, system.height,
                                                                                                 0.02, 2)),
           event(owner, 2, "budget_owner", "approved", "owner-1", "budget_owner",
                 pl.col("captured") + _hours(rng, owner.height, 4, 96))]
    esc = pl.Series(rng.random(ap.height) < 0.6)
    ap = ap.with_columns(escalated=esc, t2=pl.col("captured") + _hours(rng, ap.height, 2, 48))
    ap = ap.with_columns(t3=pl.col("t2") + _hours(rng, ap.height, 8, 120))
    out += [event(ap.filter("escalated"), 2, "ap_review", "escalated", "ap-1", "ap_clerk", pl.col("t2")),
            event(ap.filter("escalated"), 3, "budget_owner", "approved", "owner-1", "budget_owner", pl.col("t3")),
            event(ap.filter(~pl.col("escalated")), 2, "ap_review", "returned", "ap-1", "ap_clerk", pl.col("t2")),
            event(ap.filter(~pl.col("escalated")), 3, "ap_review", "approved", "ap-1", "ap_clerk", pl.col("t3"))]
    return pl.concat(out).select(head)


def receipts(rng: np.random.Generator, po: pl.DataFrame, last_day: date) -> pl.DataFrame:
    """Goods received 2 to 20 days after the order (in two deliveries for one line in ten); none of what is due
    after the demo's last day, and none for cancelled lines."""
    live = po.filter(pl.col("status") != "cancelled")
    n = live.height
    split = pl.Series(rng.random(n) < 0.1)
    first = live.with_columns(receipt_date=pl.col("order_date") + pl.duration(days=pl.Series(rng.integers(2, 21, n))),
                              part=pl.when(split).then(0.6).otherwise(1.0), k=pl.lit(1))
    second = first.filter(split).with_columns(receipt_date=pl.col("receipt_date") + pl.duration(days=7),
                                              part=pl.lit(0.4), k=pl.lit(2))
    got = pl.concat([first, second]).filter(pl.col("receipt_date") <= last_day)
    return got.sort("receipt_date", "po_id", "po_line", "k").with_row_index("n").select(
        pl.format("GR{}", pl.col("n") + 500000).alias("receipt_id"), pl.lit(1, pl.Int64).alias("line"),
        "po_id", "po_line", "receipt_date", (pl.col("quantity") * pl.col("part")).round(3).alias("quantity"))


def forward_budgets(budgets: pl.DataFrame, months: list[str], extra: dict[tuple[str, str], float]) -> pl.DataFrame:
    """The budget of the months the data has not reached yet: each slice's mean month of the year so far (to the
    hundred), plus what a program adds (`extra`, per month)."""
    year = months[0][:4]
    mean = (budgets.filter(pl.col("fiscal_period").str.starts_with(year))
            .group_by("cost_center", "category").agg(pl.col("budget_amount").mean().alias("mean")))
    add = pl.DataFrame([{"cost_center": cc, "category": cat, "add": v} for (cc, cat), v in extra.items()],
                       schema={"cost_center": pl.String, "category": pl.String, "add": pl.Float64})
    mean = mean.join(add, on=["cost_center", "category"], how="left").with_columns(
        budget_amount=((pl.col("mean") + pl.col("add").fill_null(0)) / 100).round(0) * 100)
    return (mean.join(pl.DataFrame({"fiscal_period": months}), how="cross")
            .select("fiscal_period", "cost_center", "category", "budget_amount", pl.lit("EUR").alias("currency"))
            .sort("fiscal_period", "cost_center", "category"))


def generate(seed: int, po: pl.DataFrame, inv: pl.DataFrame, budgets: pl.DataFrame, fx: pl.DataFrame,
             categories: list[str], cost_centers: list[str], last_day: date) -> dict[str, pl.DataFrame]:
    """The flow's exports, and the purchase orders and budgets with what they gain (approval and issue times, the
    rest of the year's budget)."""
    rng = np.random.default_rng(seed + 2)
    requisitions, req_ev, times = requisitions_and_events(rng, po, fx, categories, cost_centers)
    # what happened by the demo's last day: an invoice still with its approver then is waiting now
    events = pl.concat([req_ev, po_events(rng, times), invoice_events(rng, inv, po)]).filter(pl.col("event_at") <= NOW)
    events = events.sort("event_at", "document_type", "document_id", "seq").select(
        "document_type", "document_id", "seq", "step", "event", "actor", "actor_role", "on_behalf_of",
        _stamp("event_at").alias("event_at"), pl.lit(None, pl.String).alias("comment"))
    orders = po.join(times.select("po_id", _stamp("approved_at").alias("approved_at"),
                                  _stamp("issued_at").alias("issued_at")), on="po_id", how="left")
    # R&D's lab program is budgeted in the last two months of the year: room left to year end, until the
    # pending lab requisitions count
    ahead = forward_budgets(budgets, ["2026-11", "2026-12"], {("RND", LAB_CATEGORY): 450_000.0})
    return {
        "purchase_orders": orders.select(*po.columns, "approved_at", "issued_at"),
        "budgets": pl.concat([budgets, ahead]),
        "requisitions": requisitions,
        "approval_events": events,
        "receipts": receipts(rng, po, last_day),
    }
