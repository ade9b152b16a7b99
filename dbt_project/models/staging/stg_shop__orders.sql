{#- Order headers, one row per order_id, in business local time. shipping_address stays in raw. -#}
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
        coalesce(lower({{ clean_text('status') }}), 'completed') as status,
        lower({{ clean_text('payment_method') }}) as payment_method,
        {{ clean_text('coupon_code') }} as coupon_code,
        discount_amount,
        lower({{ clean_text('platform') }}) as platform,
        _loaded_at,
        _file_id,
        _line

    from source

),

versioned as (

    select
        *,
        {{ latest_version_rank(['order_id']) }} as version_rank

    from renamed

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
    platform

from versioned
where version_rank = 1
