{#- Order lines, one row per order_item_id. -#}
with

source as (

    select * from {{ landed_source('shop', 'order_items') }}

),

renamed as (

    select
        {{ clean_text('order_item_id') }} as order_item_id,
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('product_id') }} as product_id,
        quantity,
        unit_price,
        coalesce(discount_amount, 0) as discount_amount,
        _loaded_at,
        _file_id,
        _line

    from source

),

versioned as (

    select
        *,
        {{ latest_version_rank(['order_item_id']) }} as version_rank

    from renamed

)

select
    order_item_id,
    order_id,
    product_id,
    quantity,
    unit_price,
    discount_amount,
    quantity * unit_price - discount_amount as line_amount

from versioned
where version_rank = 1
