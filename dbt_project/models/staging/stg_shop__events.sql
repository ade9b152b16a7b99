{#- Clickstream events, one row per event_id, in business local time. -#}
{{ config(
    materialized='incremental',
    unique_key='event_id',
    incremental_strategy=ecom.fact_incremental_strategy(),
    on_schema_change='fail',
) }}
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

{% if is_incremental() %}

changed_keys as (

    {#- incremental build: the keys with a row loaded since the last build or in the late-arrival window -#}
    select distinct event_id

    from renamed
    where {{ ecom.changed_since_last_build('occurred_at_utc') }}
        or {{ ecom.vocabulary_changed_since_last_build() }}

),

{% endif %}

versioned as (

    select
        *,
        {{ latest_version_rank(['event_id']) }} as version_rank

    from renamed
    {% if is_incremental() %}
    where event_id in (select event_id from changed_keys)
    {% endif %}

)

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
