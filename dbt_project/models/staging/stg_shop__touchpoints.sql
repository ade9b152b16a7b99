{#- Marketing touches, one row per touchpoint_id, in business local time; channel and touch type in their vocabulary groups. -#}
{{ ecom.incremental_fact_config('touchpoint_id') }}
with

source as (

    select * from {{ landed_source('shop', 'touchpoints') }}

),

renamed as (

    select
        {{ clean_text('touchpoint_id') }} as touchpoint_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_text('anonymous_id') }} as anonymous_id,
        {{ vocabulary_value('channel') }} as channel,
        {{ clean_text('campaign_id') }} as campaign_id,
        occurred_at as occurred_at_utc,
        {{ utc_to_business_time('occurred_at') }} as occurred_at,
        {{ vocabulary_value('touch_type') }} as touch_type,
        {{ vocabulary_version() }} as _vocabulary_version,
        _loaded_at,
        _file_id,
        _line

    from source

),

{{ ecom.latest_versions('touchpoint_id', 'occurred_at_utc') }}

select
    touchpoint_id,
    customer_id,
    anonymous_id,
    channel,
    campaign_id,
    occurred_at_utc,
    occurred_at,
    cast(occurred_at as date) as touch_date,
    touch_type,
    _vocabulary_version,
    _loaded_at

from versioned
where version_rank = 1
