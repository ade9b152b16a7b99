"""Per customer of int_customer_btyd_summarized: p_alive, expected purchases in 90 / 365 days, expected order
value and 365-day CLV, from int_clv_parameters_fitted (null when a model could not be fitted)."""


def model(dbt, session):
    from ecom.clv.warehouse import predict

    dbt.config(materialized="table")
    return predict(dbt.ref("int_customer_btyd_summarized").df(), dbt.ref("int_clv_parameters_fitted").df())
