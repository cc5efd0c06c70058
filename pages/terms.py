"""Payment terms: what moving suppliers to new terms would bring finance and cost procurement, and the cash
given away today by paying before terms (formulas: kpi_definitions/terms.py)."""

from __future__ import annotations

import streamlit as st

from reports import formats
from store.errors import TandemError
from tandem import scenarios_ui, selection, service, widgets

st.title("Payment terms")
st.text("Choose suppliers in the filter bar (supplier, category; none: all of them) and the terms to move them to. "
        "Every figure is over the payments of the period shown, annualised.")
sel = selection.filter_bar()
ccy = sel.currency
c1, c2, c3, c4 = st.columns(4)
terms = c1.number_input("New terms (days)", 0, 365, 90, step=5, key="terms_days", bind="query-params")
capital = c2.number_input("Cost of capital (% a year)", 0.0, 100.0, service.cfg().cost_of_capital * 100, step=0.5,
                          key="terms_capital", bind="query-params") / 100
band = c3.text_input("Annual spend band (from-to, optional)", "", key="terms_band", placeholder="e.g. 100000-1000000")
discount = c4.text_input("Early-payment discount (optional)", "2/10/30", key="terms_discount",
                         help="RATE/DAYS/NET: 2/10/30 is 2 % off when paid within 10 days, else net 30")
inputs = (sel.span.first, sel.span.last, int(terms), float(capital), tuple(sel.filters.get("supplier_id", ())),
          tuple(sel.filters.get("category", ())), band, discount)
try:
    result = service.terms(str(sel.db), sel.ver, *inputs)
except TandemError as exc:
    st.info(exc.message)
    st.stop()

st.caption(f"{result.months} month(s) of payments ({sel.span.label}), annualised · {sel.filter_text()}")
finance, procurement = st.columns(2)
with finance.container(border=True):
    st.subheader("Finance", anchor=False)
    a = b = st.container(horizontal=True, gap="large")  # metrics as wide as their text, wrapping: never cut
    a.metric("DPO before", formats.value(result.dpo_before, "days", ccy), width="content")
    b.metric("DPO after", formats.value(result.dpo_after, "days", ccy), width="content")
    a.metric("Cash released", formats.value(result.cash_released, "currency", ccy), width="content")
    b.metric(f"Financing value a year at {capital:.1%}", formats.value(result.financing_value, "currency", ccy),
             width="content")
    st.caption("Cash released = Σ annual spend × (new terms − days taken now) ÷ 365, over the chosen suppliers; "
               "financing value = cash released × cost of capital.")
with procurement.container(border=True):
    st.subheader("Procurement", anchor=False)
    a = b = st.container(horizontal=True, gap="large")  # metrics as wide as their text, wrapping: never cut
    a.metric("Suppliers affected", f"{result.suppliers_affected:,}", width="content")
    b.metric("Spend affected a year", formats.value(result.spend_affected, "currency", ccy), width="content")
    a.metric("Pushed beyond agreed terms", f"{result.suppliers_beyond_terms:,}",
             help="Suppliers with spend whose agreed terms (contract, else supplier master) are below the new terms",
             width="content")
    b.metric("Break-even price increase", formats.value(result.break_even_price_increase, "ratio", ccy),
             help="A price rise above this costs more than the cash brings: financing value ÷ spend affected",
             width="content")
if result.discount_annualised is not None:
    verdict = "pays: it beats" if result.discount_pays else "does not pay: it is below"
    st.text(f"Early-payment discount {discount}: {result.discount_annualised:.1%} a year annualised "
            f"(rate ÷ (1 − rate) × 365 ÷ (net − discount days)); taking it {verdict} the cost of capital.")

st.subheader("Cash given away by paying before terms", anchor=False)
st.caption(f"Σ amount × max(agreed terms − days taken, 0) ÷ 365, a year: {formats.value(result.cash_given_away, 'currency', ccy)}"
           f" in all, costing {formats.value(result.cost_of_cash_given_away, 'currency', ccy)} a year at the cost of capital.")
table = service.terms_table(result, ccy)
widgets.table(table)
widgets.table_downloads(table, f"payment-terms-{sel.span.label}", "terms")
scenarios_ui.save_form(sel, service.terms_scenario(*inputs), result)
