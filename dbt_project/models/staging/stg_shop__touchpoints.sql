{#- Marketing touches, one row per touchpoint_id, in business local time; no touch_type means a click. -#}
with

source as (

    select * from {{ landed_source('shop', 'touchpoints') }}

),

renamed as (

    select
        {{ clean_text('touchpoint_id') }} as touchpoint_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_text('anonymous_id') }} as anonymous_id,
        lower({{ clean_text('channel') }}) as channel,
        {{ clean_text('campaign_id') }} as campaign_id,
        occurred_at as occurred_at_utc,
        {{ utc_to_business_time('occurred_at') }} as occurred_at,
        coalesce(lower({{ clean_text('touch_type') }}), 'click') as touch_type,
        _loaded_at,
        _file_id,
        _line

    from source

),

versioned as (

    select
        *,
        {{ latest_version_rank(['touchpoint_id']) }} as version_rank

    from renamed

)

select
    touchpoint_id,
    customer_id,
    anonymous_id,
    channel,
    campaign_id,
    occurred_at_utc,
    occurred_at,
    cast(occurred_at as date) as touch_date,
    touch_type

from versioned
where version_rank = 1
