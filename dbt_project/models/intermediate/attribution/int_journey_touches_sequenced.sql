{#-
  Every touchpoint of the journeys attribution reads, converting or not, after identity stitching.

  - Touches of the selected types (var attribution_touch_types, clicks only by default) on or before
    the as-of date. A touch without customer_id belongs to the customer its anonymous_id was seen
    signed in as (int_identities_stitched); otherwise to its anonymous visitor (never converts).
  - A touch credits at most one conversion: the person's first conversion at or after it (ties by
    order_id), provided that conversion is at most attribution_lookback_days later (UTC, inclusive).
  - The other touches form non-converting journeys: a person's touches too old for the next
    conversion, or after the last one (by the as-of date), are one journey per gap between
    conversions. With attribution_conversion_type = first_orders a customer's touches after the first
    order are left out: that customer can no longer convert.
  Journeys: 'order:<order_id>' converts; '<person>/before:<order_id>' and '<person>/open' do not.
-#}
with

touchpoints as (

    select * from {{ ref('stg_shop__touchpoints') }}

),

identities as (

    select * from {{ ref('int_identities_stitched') }}

),

conversions as (

    select * from {{ ref('int_conversions_selected') }}

),

stitched_touches as (

    select
        touchpoints.touchpoint_id,
        coalesce(touchpoints.customer_id, identities.customer_id) as customer_id,
        case
            when touchpoints.customer_id is not null then 'signed_in'
            when identities.customer_id is not null then 'stitched'
            else 'anonymous'
        end as identity_source,
        case
            when touchpoints.customer_id is not null then 'customer:' || touchpoints.customer_id
            when identities.customer_id is not null then 'customer:' || identities.customer_id
            when touchpoints.anonymous_id is not null then 'anonymous:' || touchpoints.anonymous_id
            else 'touch:' || touchpoints.touchpoint_id
        end as person_id,
        touchpoints.channel,
        touchpoints.campaign_id,
        touchpoints.touch_type,
        touchpoints.occurred_at_utc as touched_at_utc,
        touchpoints.occurred_at as touched_at

    from touchpoints
    left join identities
        on touchpoints.customer_id is null
        and touchpoints.anonymous_id = identities.anonymous_id
    where touchpoints.touch_date <= {{ as_of_date() }}
        and touchpoints.touch_type in {{ attribution_touch_types() }}

),

next_conversions as (

    select
        stitched_touches.touchpoint_id,
        conversions.order_id,
        conversions.ordered_at_utc,
        conversions.revenue,
        row_number() over (
            partition by stitched_touches.touchpoint_id
            order by conversions.ordered_at_utc, conversions.order_id
        ) as conversion_rank

    from stitched_touches
    inner join conversions
        on stitched_touches.customer_id = conversions.customer_id
        and stitched_touches.touched_at_utc <= conversions.ordered_at_utc

),

{%- if attribution_conversion_type() == 'first_orders' %}

converted_customers as (

    select distinct customer_id from conversions

),
{%- endif %}

assigned_touches as (

    select
        stitched_touches.*,
        next_conversions.order_id as next_order_id,
        case
            when next_conversions.ordered_at_utc <= {{ dbt.dateadd(
                'day', int_var('attribution_lookback_days'), 'stitched_touches.touched_at_utc') }}
                then next_conversions.order_id
        end as order_id,
        next_conversions.ordered_at_utc as next_ordered_at_utc,
        next_conversions.revenue as next_revenue

    from stitched_touches
    left join next_conversions
        on stitched_touches.touchpoint_id = next_conversions.touchpoint_id
        and next_conversions.conversion_rank = 1
    {%- if attribution_conversion_type() == 'first_orders' %}
    left join converted_customers
        on stitched_touches.customer_id = converted_customers.customer_id
    where converted_customers.customer_id is null or next_conversions.order_id is not null
    {%- endif %}

),

journey_touches as (

    select
        case
            when order_id is not null then 'order:' || order_id
            when next_order_id is not null then person_id || '/before:' || next_order_id
            else person_id || '/open'
        end as journey_id,
        order_id,
        case when order_id is not null then next_ordered_at_utc end as ordered_at_utc,
        case when order_id is not null then next_revenue end as order_revenue,
        person_id,
        customer_id,
        identity_source,
        touchpoint_id,
        channel,
        campaign_id,
        touch_type,
        touched_at_utc,
        touched_at

    from assigned_touches

)

select
    journey_id,
    order_id,
    order_id is not null as is_converting,
    ordered_at_utc,
    order_revenue,
    person_id,
    customer_id,
    identity_source,
    touchpoint_id,
    channel,
    campaign_id,
    touch_type,
    touched_at_utc,
    touched_at,
    row_number() over (
        partition by journey_id order by touched_at_utc, touchpoint_id
    ) as touch_position,
    count(*) over (partition by journey_id) as touch_count

from journey_touches
