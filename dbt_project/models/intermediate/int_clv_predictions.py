"""Per customer: p_alive, expected purchases in 90 / 365 days, expected order value and 365-day CLV,
from the parameters of int_clv_parameters (null when a model could not be fitted)."""

import datetime  # also names the date dbt renders into the model's config (var as_of_date)


def model(dbt, session):
    from ecom.clv.warehouse import btyd_summary, predict

    dbt.config(materialized="table")
    as_of = datetime.date.fromisoformat(str(dbt.config.get("as_of_date")))
    summary = btyd_summary(dbt.ref("int_customer_order_days").df(), as_of)
    return predict(summary, dbt.ref("int_clv_parameters").df())
