{#- Marketing touches, one row per touchpoint_id, in business local time; channel and touch type in their vocabulary groups. -#}
{{ config(
    materialized='incremental',
    unique_key='touchpoint_id',
    incremental_strategy=ecom.fact_incremental_strategy(),
    on_schema_change='fail',
) }}
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

{% if is_incremental() %}

changed_keys as (

    {#- incremental build: the keys with a row loaded since the last build or in the late-arrival window -#}
    select distinct touchpoint_id

    from renamed
    where {{ ecom.changed_since_last_build('occurred_at_utc') }}
        or {{ ecom.vocabulary_changed_since_last_build() }}

),

{% endif %}

versioned as (

    select
        *,
        {{ latest_version_rank(['touchpoint_id']) }} as version_rank

    from renamed
    {% if is_incremental() %}
    where touchpoint_id in (select touchpoint_id from changed_keys)
    {% endif %}

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
    touch_type,
    _vocabulary_version,
    _loaded_at

from versioned
where version_rank = 1
