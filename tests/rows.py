"""Golden rows: one valid row of each export type, as the text a file carries."""

from __future__ import annotations

# One valid row per export type, as the text a CSV would carry.
VALID: dict[str, dict[str, str]] = {
    "suppliers": {"supplier_id": "S1", "supplier_name": "Acme", "country": "NL", "preferred": "yes",
                  "payment_terms_days": "30"},
    "contracts": {"contract_id": "C1", "supplier_id": "S1", "category": "IT", "item_id": "", "start_date": "2026-01-01",
                  "end_date": "2026-12-31", "baseline_unit_price": "10", "contract_unit_price": "9", "currency": "EUR",
                  "savings_type": "price_reduction", "payment_terms_days": "60"},
    "purchase_orders": {"po_id": "P1", "po_line": "1", "supplier_id": "S1", "contract_id": "C1", "item_id": "",
                        "category": "IT", "cost_center": "CC1", "order_date": "2026-01-05", "quantity": "2",
                        "unit_price": "9", "currency": "EUR", "status": "open"},
    "invoices": {"invoice_id": "I1", "invoice_line": "1", "supplier_id": "S1", "po_id": "P1", "po_line": "1",
                 "item_id": "", "category": "IT", "cost_center": "CC1", "gl_account": "6000",
                 "invoice_date": "2026-01-10", "due_date": "2026-02-09", "paid_date": "", "quantity": "",
                 "amount": "-18.5", "currency": "EUR"},
    "budgets": {"fiscal_period": "2026-01", "cost_center": "CC1", "category": "IT", "budget_amount": "1000",
                "currency": "EUR"},
    "inventory": {"snapshot_date": "2026-01-31", "item_id": "X1", "location": "DC", "on_hand_qty": "5",
                  "safety_stock_qty": "2", "unit_cost": "3.5", "currency": "EUR"},
    "consumption": {"period": "2026-01", "item_id": "X1", "location": "DC", "quantity": "4", "value": "14",
                    "currency": "EUR"},
    "fx_rates": {"period": "2026-01", "currency": "USD", "rate_to_reporting": "0.92"},
    "price_indices": {"period": "2026-01", "index_name": "PPI-IT", "value": "101.3"},
    "category_index": {"category": "IT", "index_name": "PPI-IT"},  # needs PPI-IT loaded first
    "requisitions": {"req_id": "R1", "req_line": "1", "requester": "ana", "cost_center": "CC1", "category": "IT",
                     "supplier_id": "", "amount": "1200", "currency": "EUR", "status": "approved",
                     "submitted_at": "2026-01-05T09:30:00+01:00", "approved_at": "2026-01-06T14:00:00+01:00",
                     "po_id": "", "po_line": ""},
    "approval_events": {"document_type": "requisition", "document_id": "R1", "seq": "1", "step": "manager",
                        "event": "submitted", "actor": "ana", "actor_role": "requester", "on_behalf_of": "",
                        "event_at": "2026-01-05T09:30:00+01:00", "comment": ""},
    "receipts": {"receipt_id": "G1", "line": "1", "po_id": "P1", "po_line": "1", "receipt_date": "2026-01-20",
                 "quantity": "2"},
    "savings_initiatives": {"initiative_id": "SI1", "name": "IT laptops 2026", "category": "IT", "supplier_id": "S1",
                            "contract_id": "C1", "item_id": "", "type": "reduction", "baseline_method": "last_price",
                            "baseline_price": "10", "new_price": "9", "forecast_quantity": "1200", "currency": "EUR",
                            "window_start": "2026-01-01", "window_end": "2026-12-31", "owner": "buyer@example.com"},
}
