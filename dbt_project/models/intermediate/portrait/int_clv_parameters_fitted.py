"""BG/NBD and Gamma-Gamma fitted in the warehouse on the portrait's BTYD summary (int_customer_btyd_summarized).

One row per model and parameter with the fit's diagnostics; no rows when there are too few customers
(var clv_min_customers). The fitting code is ecom.clv (tested on simulated data).
"""


def model(dbt, session):
    from ecom.clv.warehouse import fit_parameters

    dbt.config(materialized="table")
    summary = dbt.ref("int_customer_btyd_summarized").df()
    return fit_parameters(summary, int(dbt.config.get("clv_min_customers")))
