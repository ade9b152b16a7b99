{#- Order lines, one row per order_item_id. -#}
{{ config(
    materialized='incremental',
    unique_key='order_item_id',
    incremental_strategy=ecom.fact_incremental_strategy(),
    on_schema_change='fail',
) }}
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

{% if is_incremental() %}

changed_keys as (

    {#- incremental build: the keys with a row loaded since the last build or in the late-arrival window -#}
    select distinct order_item_id

    from renamed
    where {{ ecom.changed_since_last_build() }}

),

{% endif %}

versioned as (

    select
        *,
        {{ latest_version_rank(['order_item_id']) }} as version_rank

    from renamed
    {% if is_incremental() %}
    where order_item_id in (select order_item_id from changed_keys)
    {% endif %}

)

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
