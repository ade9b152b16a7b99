{#- Order lines, one row per order_item_id. -#}
{{ ecom.incremental_fact_config('order_item_id') }}
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

{{ ecom.latest_versions('order_item_id', maps_vocabulary=false) }}

select
    order_item_id,
    order_id,
    product_id,
    quantity,
    unit_price,
    discount_amount,
    quantity * unit_price - discount_amount as line_amount,
    _loaded_at

from versioned
where version_rank = 1
