{#-
  Conversions and revenue credited per attribution model, at two grains: per channel (campaign_id
  null) and per channel and campaign (campaign_id null = touches without a campaign, and 'direct' for
  conversions without touches). With the spend up to the as-of date, ROAS and cost per acquisition.
  Every model but markov sums the touch credits of int_touch_credits_allocated. markov credits the touched
  conversions (and their revenue) x removal effect / sum of removal effects of the grain's chain
  (int_removal_effects_solved); conversions without touches go to 'direct' under every model.
  Per model and grain, conversions add up to the conversions and revenue to their revenue.
-#}
with

touch_credits as (

    select * from {{ ref('int_touch_credits_allocated') }}

),

removal_effects as (

    select * from {{ ref('int_removal_effects_solved') }}

),

marketing_spend as (

    select * from {{ ref('stg_shop__marketing_spend') }}

),

attribution_models as (

    {{ attribution_models_relation() }}

),

grains as (

    select 'channel' as grain
    union all
    select 'campaign' as grain

),

touch_based_credits as (

    select
        grains.grain,
        touch_credits.model,
        touch_credits.channel,
        case when grains.grain = 'campaign' then touch_credits.campaign_id end as campaign_id,
        touch_credits.credit as conversions,
        touch_credits.revenue_credit as revenue

    from touch_credits
    cross join grains
    where touch_credits.model <> 'markov'

),

touched_totals as (

    select
        count(*) as conversions,
        sum(cast(order_revenue as double)) as revenue

    from touch_credits
    where model = 'markov' and touchpoint_id is not null and touch_position = 1

),

markov_credits as (

    select
        removal_effects.grain,
        'markov' as model,
        removal_effects.channel,
        removal_effects.campaign_id,
        touched_totals.conversions * removal_effects.credit_share as conversions,
        touched_totals.revenue * removal_effects.credit_share as revenue

    from removal_effects
    cross join touched_totals

    union all

    select
        grains.grain,
        'markov' as model,
        touch_credits.channel,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        touch_credits.credit as conversions,
        touch_credits.revenue_credit as revenue

    from touch_credits
    cross join grains
    where touch_credits.model = 'markov' and touch_credits.touchpoint_id is null

),

credited as (

    select
        grain,
        model,
        channel,
        campaign_id,
        sum(cast(conversions as double)) as conversions,
        sum(cast(revenue as double)) as revenue

    from (
        select * from touch_based_credits
        union all
        select * from markov_credits
    ) as all_credits
    group by grain, model, channel, campaign_id

),

spend_by_grain as (

    select
        grains.grain,
        marketing_spend.channel,
        case when grains.grain = 'campaign' then marketing_spend.campaign_id end as campaign_id,
        sum(marketing_spend.spend) as spend

    from marketing_spend
    cross join grains
    where marketing_spend.spend_date <= {{ as_of_date() }}
    group by 1, 2, 3

),

result_keys as (

    select
        grain,
        model,
        channel,
        campaign_id
    from credited
    union
    select
        spend_by_grain.grain,
        attribution_models.model,
        spend_by_grain.channel,
        spend_by_grain.campaign_id
    from spend_by_grain
    cross join attribution_models

),

results as (

    select
        result_keys.grain,
        result_keys.model,
        result_keys.channel,
        result_keys.campaign_id,
        coalesce(credited.conversions, 0) as conversions,
        coalesce(credited.revenue, 0) as revenue,
        {{ spend_when_landed('spend_by_grain.spend') }} as spend

    from result_keys
    left join credited
        on result_keys.grain = credited.grain
        and result_keys.model = credited.model
        and result_keys.channel = credited.channel
        and {{ dbt.equals('result_keys.campaign_id', 'credited.campaign_id') }}
    left join spend_by_grain
        on result_keys.grain = spend_by_grain.grain
        and result_keys.channel = spend_by_grain.channel
        and {{ dbt.equals('result_keys.campaign_id', 'spend_by_grain.campaign_id') }}

)

select
    cast(grain as {{ dbt.type_string() }}) as grain,
    cast(model as {{ dbt.type_string() }}) as model,
    cast('{{ attribution_conversion_type() }}' as {{ dbt.type_string() }}) as conversion_type,
    cast(channel as {{ dbt.type_string() }}) as channel,
    cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
    cast(conversions as double) as conversions,
    cast(revenue as double) as revenue,
    cast(spend as decimal(18, 2)) as spend,
    case when spend > 0 then cast(revenue as double) / cast(spend as double) end as roas,
    case when conversions > 0 then cast(spend as double) / conversions end as cpa

from results
where {{ required_sources_landed() }}
