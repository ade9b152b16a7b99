{#- Order headers, one row per order_id, in business local time. shipping_address stays in raw. -#}
{{ config(
    materialized='incremental',
    unique_key='order_id',
    incremental_strategy=ecom.fact_incremental_strategy(),
    on_schema_change='fail',
) }}
with

source as (

    select * from {{ landed_source('shop', 'orders') }}

),

renamed as (

    select
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('customer_id') }} as customer_id,
        ordered_at as ordered_at_utc,
        {{ utc_to_business_time('ordered_at') }} as ordered_at,
        total_amount,
        {{ vocabulary_value('status') }} as status,
        {{ vocabulary_value('payment_method') }} as payment_method,
        {{ clean_text('coupon_code') }} as coupon_code,
        discount_amount,
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
    select distinct order_id

    from renamed
    where {{ ecom.changed_since_last_build('ordered_at_utc') }}
        or {{ ecom.vocabulary_changed_since_last_build() }}

),

{% endif %}

versioned as (

    select
        *,
        {{ latest_version_rank(['order_id']) }} as version_rank

    from renamed
    {% if is_incremental() %}
    where order_id in (select order_id from changed_keys)
    {% endif %}

)

select
    order_id,
    customer_id,
    ordered_at_utc,
    ordered_at,
    cast(ordered_at as date) as order_date,
    total_amount,
    status,
    status = 'cancelled' as is_cancelled,
    payment_method,
    coupon_code,
    discount_amount,
    platform,
    _vocabulary_version,
    _loaded_at

from versioned
where version_rank = 1
