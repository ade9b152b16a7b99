{#-
  Daily trend per model and channel: conversions (by business day of the conversion) and revenue
  credited, the channel's spend that day, ROAS and cost per acquisition. Credits are the touch
  credits of int_touch_credits_allocated (markov: each conversion split by its channels' removal effects).
  Days from the first conversion or spend to the as-of date; a day without credit or spend has no row.
-#}
with

touch_credits as (

    select * from {{ ref('int_touch_credits_allocated') }}

),

marketing_spend as (

    select * from {{ ref('stg_shop__marketing_spend') }}

),

attribution_models as (

    {{ attribution_models_relation() }}

),

daily_credits as (

    select
        order_date as activity_date,
        model,
        channel,
        sum(credit) as conversions,
        sum(revenue_credit) as revenue

    from touch_credits
    group by order_date, model, channel

),

daily_spend as (

    select
        spend_date as activity_date,
        channel,
        sum(spend) as spend

    from marketing_spend
    where spend_date <= {{ as_of_date() }}
    group by spend_date, channel

),

day_keys as (

    select
        activity_date,
        model,
        channel
    from daily_credits
    union
    select
        daily_spend.activity_date,
        attribution_models.model,
        daily_spend.channel
    from daily_spend
    cross join attribution_models

),

results as (

    select
        day_keys.activity_date,
        day_keys.model,
        day_keys.channel,
        coalesce(daily_credits.conversions, 0) as conversions,
        coalesce(daily_credits.revenue, 0) as revenue,
        {{ spend_when_landed('daily_spend.spend') }} as spend

    from day_keys
    left join daily_credits
        on day_keys.activity_date = daily_credits.activity_date
        and day_keys.model = daily_credits.model
        and day_keys.channel = daily_credits.channel
    left join daily_spend
        on day_keys.activity_date = daily_spend.activity_date
        and day_keys.channel = daily_spend.channel

)

select
    cast(activity_date as date) as activity_date,
    cast(model as {{ dbt.type_string() }}) as model,
    cast(channel as {{ dbt.type_string() }}) as channel,
    cast(conversions as double) as conversions,
    cast(revenue as double) as revenue,
    cast(spend as decimal(18, 2)) as spend,
    case when spend > 0 then cast(revenue as double) / cast(spend as double) end as roas,
    case when conversions > 0 then cast(spend as double) / conversions end as cpa

from results
where {{ required_sources_landed() }}
