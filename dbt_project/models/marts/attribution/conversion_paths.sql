{#-
  The most frequent channel paths of int_journey_touches_sequenced' journeys (converting and not): the
  channels of a journey's touches in time order, joined by ' > '. Per path: journeys, conversions,
  conversion rate, average touches, average days from first touch to conversion, revenue. Top
  attribution_top_paths paths by conversions (ties: more journeys, then path). Conversions without
  any touch have no path.
-#}
with

journey_touches as (

    select * from {{ ref('int_journey_touches_sequenced') }}

),

journeys as (

    select
        journey_id,
        {{ dbt.listagg('channel', "' > '", 'order by touch_position') }} as path,
        max(touch_count) as touch_count,
        max(case when is_converting then 1 else 0 end) as converted,
        max(order_revenue) as revenue,
        {{ dbt.datediff('min(touched_at_utc)', 'max(ordered_at_utc)', 'second') }} / 86400.0 as days_to_conversion

    from journey_touches
    group by journey_id

),

paths as (

    select
        path,
        count(*) as journeys,
        sum(converted) as conversions,
        avg(cast(touch_count as double)) as avg_path_length,
        avg(days_to_conversion) as avg_days_to_conversion,
        coalesce(sum(revenue), 0) as revenue

    from journeys
    group by path

),

ranked as (

    select
        *,
        row_number() over (order by conversions desc, journeys desc, path asc) as path_rank

    from paths

)

select
    cast(path_rank as integer) as path_rank,
    cast(path as {{ dbt.type_string() }}) as path,
    cast(journeys as bigint) as journeys,
    cast(conversions as bigint) as conversions,
    cast(conversions as double) / journeys as conversion_rate,
    cast(avg_path_length as double) as avg_path_length,
    cast(avg_days_to_conversion as double) as avg_days_to_conversion,
    cast(revenue as decimal(18, 2)) as revenue

from ranked
where path_rank <= {{ int_var('attribution_top_paths') }}
    and {{ required_sources_landed() }}
