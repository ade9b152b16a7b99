{#- The product catalogue, one row per product_id. -#}
with

source as (

    select * from {{ landed_source('shop', 'products') }}

),

renamed as (

    select
        {{ clean_text('product_id') }} as product_id,
        {{ clean_text('product_name') }} as product_name,
        {{ vocabulary_value('category') }} as category,
        {{ clean_text('subcategory') }} as subcategory,
        {{ clean_text('brand') }} as brand,
        list_price,
        _loaded_at,
        _file_id,
        _line

    from source

),

versioned as (

    select
        *,
        {{ latest_version_rank(['product_id']) }} as version_rank

    from renamed

)

select
    product_id,
    product_name,
    category,
    subcategory,
    brand,
    list_price

from versioned
where version_rank = 1
