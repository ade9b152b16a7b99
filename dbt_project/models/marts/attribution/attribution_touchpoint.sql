{#-
  Per conversion and attribution model, each touch of its journey with its credit: the published rows
  of int_touch_credits_allocated (the credit rules live there).
-#}
with

touch_credits as (

    select * from {{ ref('int_touch_credits_allocated') }}

)

select
    model,
    conversion_type,
    order_id,
    order_date,
    ordered_at,
    order_revenue,
    touch_position,
    touch_count,
    touchpoint_id,
    channel,
    campaign_id,
    touch_type,
    identity_source,
    touched_at,
    credit,
    revenue_credit

from touch_credits
where {{ required_sources_landed() }}
