{#- Clickstream events, one row per event_id, in business local time. -#}
{{ ecom.incremental_fact_config('event_id') }}
with

source as (

    select * from {{ landed_source('shop', 'events') }}

),

renamed as (

    select
        {{ clean_text('event_id') }} as event_id,
        {{ clean_text('session_id') }} as session_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_text('anonymous_id') }} as anonymous_id,
        {{ vocabulary_value('event_type') }} as event_type,
        occurred_at as occurred_at_utc,
        {{ utc_to_business_time('occurred_at') }} as occurred_at,
        {{ vocabulary_value('page_type') }} as page_type,
        {{ clean_text('product_id') }} as product_id,
        {{ clean_text('search_query') }} as search_query,
        {{ clean_text('order_id') }} as order_id,
        dwell_seconds,
        {{ vocabulary_value('device') }} as device,
        {{ vocabulary_value('platform') }} as platform,
        {{ vocabulary_version() }} as _vocabulary_version,
        _loaded_at,
        _file_id,
        _line

    from source

),

{{ ecom.latest_versions('event_id', 'occurred_at_utc') }}

select
    event_id,
    session_id,
    customer_id,
    anonymous_id,
    event_type,
    occurred_at_utc,
    occurred_at,
    cast(occurred_at as date) as event_date,
    page_type,
    product_id,
    search_query,
    order_id,
    dwell_seconds,
    device,
    platform,
    _vocabulary_version,
    _loaded_at

from versioned
where version_rank = 1
