{#-
  The credit fact every attribution mart reads: per conversion and attribution model (var
  attribution_models), each touch of its journey with its credit; the credits of a conversion sum to 1
  under every model. A conversion without touches has one row, channel 'direct', touchpoint_id null,
  credit 1 under every model. Each model's rule is the case below (and the description of
  marts.attribution_touchpoint, which publishes these rows).
-#}
with

conversions as (

    select * from {{ ref('int_conversions_selected') }}

),

journey_touches as (

    select * from {{ ref('int_journey_touches_sequenced') }}
    where is_converting

),

removal_effects as (

    select * from {{ ref('int_removal_effects_solved') }}
    where grain = 'channel'

),

attribution_models as (

    {{ attribution_models_relation() }}

),

conversion_touches as (

    select
        conversions.order_id,
        conversions.ordered_at,
        conversions.order_date,
        conversions.revenue as order_revenue,
        journey_touches.touchpoint_id,
        coalesce(journey_touches.channel, 'direct') as channel,
        journey_touches.campaign_id,
        journey_touches.touch_type,
        journey_touches.identity_source,
        journey_touches.touched_at,
        coalesce(journey_touches.touch_position, 1) as touch_position,
        coalesce(journey_touches.touch_count, 1) as touch_count,
        -- time_decay: 2^(-days between touch and conversion / half-life); 1 for an untouched conversion
        coalesce(
            power(2.0, -1.0 * {{ dbt.datediff('journey_touches.touched_at_utc',
            'conversions.ordered_at_utc', 'second') }} / (86400.0 * {{ attribution_half_life_days() }})),
            1.0
        ) as decay_weight

    from conversions
    left join journey_touches
        on conversions.order_id = journey_touches.order_id

),

conversion_channels as (

    select
        order_id,
        count(distinct channel) as channel_count

    from conversion_touches
    group by order_id

),

weighted_touches as (

    select
        conversion_touches.*,
        conversion_channels.channel_count,
        count(*) over (
            partition by conversion_touches.order_id, conversion_touches.channel
        ) as channel_touch_count,
        sum(decay_weight) over (partition by conversion_touches.order_id) as decay_weight_total,
        -- markov: the channel's removal effect (1 for an untouched conversion's 'direct')
        case
            when conversion_touches.touchpoint_id is null then 1.0
            else coalesce(removal_effects.removal_effect, 0.0)
        end as removal_weight

    from conversion_touches
    inner join conversion_channels
        on conversion_touches.order_id = conversion_channels.order_id
    left join removal_effects
        on conversion_touches.channel = removal_effects.channel

),

normalised_touches as (

    select
        *,
        sum(removal_weight) over (partition by order_id) as removal_weight_total

    from weighted_touches

),

credits as (

    select
        attribution_models.model,
        normalised_touches.*,
        case attribution_models.model
            when 'first_touch' then case when touch_position = 1 then 1.0 else 0.0 end
            when 'last_touch' then case when touch_position = touch_count then 1.0 else 0.0 end
            when 'linear' then 1.0 / touch_count
            when 'position_based'
                then
                    case
                        when touch_count = 1 then 1.0
                        when touch_count = 2 then 0.5
                        when touch_position = 1 or touch_position = touch_count then 0.4
                        else 0.2 / (touch_count - 2)
                    end
            when 'time_decay' then decay_weight / decay_weight_total
            when 'markov'
                then
                    -- removal effects are > 0 for every channel of a converting journey; linear if not
                    coalesce(removal_weight / nullif(removal_weight_total, 0), 1.0 / touch_count)
            when 'shapley' then 1.0 / (channel_count * channel_touch_count)
        end as credit

    from normalised_touches
    cross join attribution_models

)

select
    cast(model as {{ dbt.type_string() }}) as model,
    cast('{{ attribution_conversion_type() }}' as {{ dbt.type_string() }}) as conversion_type,
    cast(order_id as {{ dbt.type_string() }}) as order_id,
    cast(order_date as date) as order_date,
    cast(ordered_at as timestamp) as ordered_at,
    cast(order_revenue as decimal(18, 2)) as order_revenue,
    cast(touch_position as integer) as touch_position,
    cast(touch_count as integer) as touch_count,
    cast(touchpoint_id as {{ dbt.type_string() }}) as touchpoint_id,
    cast(channel as {{ dbt.type_string() }}) as channel,
    cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
    cast(touch_type as {{ dbt.type_string() }}) as touch_type,
    cast(identity_source as {{ dbt.type_string() }}) as identity_source,
    cast(touched_at as timestamp) as touched_at,
    cast(credit as double) as credit,
    cast(credit as double) * cast(order_revenue as double) as revenue_credit

from credits
