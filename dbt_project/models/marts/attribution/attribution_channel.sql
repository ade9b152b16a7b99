{#-
  Conversions (orders of int_orders) and their revenue credited to marketing channels under three
  models, with the spend up to the as-of date and the return on it. A conversion without touchpoints
  in its journey is credited to 'direct'. Per model, credits add up to one per order.
-#}
with

orders as (

    select * from {{ ref('int_orders') }}

),

journey_touches as (

    select * from {{ ref('int_attribution_touches') }}

),

marketing_spend as (

    select * from {{ ref('stg_shop__marketing_spend') }}

),

attribution_models as (

    select 'first_touch' as model
    union all
    select 'last_touch' as model
    union all
    select 'linear' as model

),

journeys as (

    select
        orders.order_id,
        orders.total_amount as order_revenue,
        coalesce(journey_touches.channel, 'direct') as channel,
        coalesce(journey_touches.touch_position, 1) as touch_position,
        coalesce(journey_touches.touch_count, 1) as touch_count

    from orders
    left join journey_touches
        on orders.order_id = journey_touches.order_id

),

credits as (

    select
        attribution_models.model,
        journeys.channel,
        journeys.order_revenue,
        case attribution_models.model
            when 'first_touch' then case when journeys.touch_position = 1 then 1.0 else 0.0 end
            when 'last_touch' then case when journeys.touch_position = journeys.touch_count then 1.0 else 0.0 end
            else 1.0 / journeys.touch_count
        end as credit

    from journeys
    cross join attribution_models

),

credited_channels as (

    select
        model,
        channel,
        sum(cast(credit as double)) as conversions,
        sum(cast(credit as double) * cast(order_revenue as double)) as revenue

    from credits
    where credit > 0
    group by model, channel

),

spend_rows as (

    select count(*) as landed_rows from marketing_spend

),

channel_spend as (

    select
        channel,
        sum(spend) as spend

    from marketing_spend
    where spend_date <= {{ as_of_date() }}
    group by channel

),

model_channels as (

    select model, channel from credited_channels
    union
    select attribution_models.model, channel_spend.channel
    from attribution_models
    cross join channel_spend

),

channel_results as (

    select
        model_channels.model,
        model_channels.channel,
        coalesce(credited_channels.conversions, 0) as conversions,
        coalesce(credited_channels.revenue, 0) as revenue,
        -- null when marketing_spend has no rows at all (never landed); 0 for a channel without spend
        case when spend_rows.landed_rows = 0 then null else coalesce(channel_spend.spend, 0) end as spend

    from model_channels
    cross join spend_rows
    left join credited_channels
        on model_channels.model = credited_channels.model
        and model_channels.channel = credited_channels.channel
    left join channel_spend
        on model_channels.channel = channel_spend.channel

)

select
    cast(model as {{ dbt.type_string() }}) as model,
    cast(channel as {{ dbt.type_string() }}) as channel,
    cast(conversions as double) as conversions,
    cast(revenue as double) as revenue,
    cast(spend as decimal(18, 2)) as spend,
    case when spend > 0 then cast(revenue as double) / cast(spend as double) end as roas

from channel_results
where {{ required_sources_landed() }}
