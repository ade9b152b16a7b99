"""BG/NBD and Gamma-Gamma fitted in the warehouse on the BTYD summary of int_customer_order_days.

One row per model and parameter with the fit's diagnostics; no rows when there are too few customers
(var clv_min_customers). The fitting code is ecom.clv (tested on simulated data).
"""

import datetime  # also names the date dbt renders into the model's config (var as_of_date)


def model(dbt, session):
    from ecom.clv.warehouse import btyd_summary, fit_parameters

    dbt.config(materialized="table")
    as_of = datetime.date.fromisoformat(str(dbt.config.get("as_of_date")))
    order_days = dbt.ref("int_customer_order_days").df()
    summary = btyd_summary(order_days, as_of)
    return fit_parameters(summary, as_of, int(dbt.config.get("clv_min_customers")))
