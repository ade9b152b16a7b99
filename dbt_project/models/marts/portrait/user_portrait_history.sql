{#-
  The portrait's segments of every as-of date a run has built, one row per as-of date and customer.
  Incremental: a run replaces the rows of its own as-of date (delete+insert on as_of_date) and keeps
  the other dates. full_refresh=false: a --full-refresh (needed after a change of the incremental
  staging facts) keeps the history too; drop the table by hand to forget it.
-#}
{{ config(
    materialized='incremental',
    unique_key='as_of_date',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    full_refresh=false
) }}
with

portrait as (

    select * from {{ ref('user_portrait') }}

)

select
    as_of_date,
    customer_id,
    rfm_segment,
    lifecycle_stage,
    value_tier,
    churn_risk,
    cast(p_alive as double) as p_alive,
    cast(predicted_clv_365d as double) as predicted_clv_365d,
    total_revenue

from portrait
where {{ required_sources_landed() }}
