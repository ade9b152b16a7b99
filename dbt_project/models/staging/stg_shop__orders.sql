{#- Order headers, one row per order_id, in business local time. shipping_address stays in raw. -#}
{{ ecom.incremental_fact_config('order_id') }}
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

{{ ecom.latest_versions('order_id', 'ordered_at_utc') }}

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
